"""The training loop both examples share: Adam, gradient clipping, a progress bar."""
import numpy as np
from tqdm import tqdm

from .. import nn, optim


def fit(model, batch_loss, steps, lr, clip, desc, progress=True):
    """``steps`` Adam steps on ``batch_loss()`` (a fresh batch's loss each call), gradients
    clipped to norm ``clip``; returns the loss of every step."""
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    bar = tqdm(range(steps), desc=desc, disable=not progress)
    for _ in bar:
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
    return losses
