"""A character-level CNN text classifier in the style of Zhang, Zhao & LeCun (2015),
"Character-level Convolutional Networks for Text Classification", as its public PyTorch ports
write it (one-hot characters as channels, ``nn.Conv1d`` + ``nn.ReLU`` + ``nn.MaxPool1d`` blocks,
a fully connected head with dropout, ``F.log_softmax`` and ``F.nll_loss``, Adam), scaled down and
trained on the embedded first names; ported in our own words with the same calls, run with only
the import switched."""
import random
import string

import numpy as np

from tests.programs.harness import run_both, start
from tinyseq.data import corpus


def char_cnn(torch, initial, steps=60, dropout=0.0):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    alphabet = string.ascii_lowercase
    l0 = 12  # the paper's l0 (1014 characters there): each name padded or cut to 12
    # two classes, as in the RNN name tutorial's port: names ending in a vowel, and the others
    names = corpus("names").split()[:3000]
    data = [(n.lower(), int(n[-1].lower() in "aeiouy")) for n in names
            if all(c in alphabet for c in n.lower())]

    def quantize(batch):
        """(N, len(alphabet), l0): one-hot characters, zeros past the end of a name."""
        ids = torch.zeros(len(batch), l0, dtype=torch.long)
        mask = torch.zeros(len(batch), l0, 1)
        for i, name in enumerate(batch):
            for j, c in enumerate(name[:l0]):
                ids[i, j] = alphabet.index(c)
                mask[i, j] = 1
        return (F.one_hot(ids, len(alphabet)).float() * mask).permute(0, 2, 1)

    class CharCNN(nn.Module):
        def __init__(self, n_classes, n_features=32, dropout=0.5):
            super(CharCNN, self).__init__()
            self.conv1 = nn.Sequential(nn.Conv1d(len(alphabet), n_features, kernel_size=3),
                                       nn.ReLU(), nn.MaxPool1d(kernel_size=2, stride=2))
            self.conv2 = nn.Sequential(nn.Conv1d(n_features, n_features, kernel_size=3,
                                                 padding=1), nn.ReLU())
            self.conv3 = nn.Sequential(nn.Conv1d(n_features, n_features, kernel_size=3),
                                       nn.ReLU(), nn.AdaptiveMaxPool1d(1))
            self.fc1 = nn.Sequential(nn.Linear(n_features, 16), nn.ReLU(), nn.Dropout(p=dropout))
            self.fc2 = nn.Linear(16, n_classes)

        def forward(self, x):
            x = self.conv1(x)
            x = self.conv2(x)
            x = self.conv3(x)
            x = x.view(x.size(0), -1)  # collapse
            x = self.fc1(x)
            return F.log_softmax(self.fc2(x), dim=1)

    torch.manual_seed(0)
    model = CharCNN(2, dropout=dropout)
    weights = start(model, initial, torch)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    rng = random.Random(0)
    losses = []
    model.train()
    for _ in range(steps):
        batch = rng.sample(data, 32)
        inputs = quantize([n for n, _ in batch])
        target = torch.tensor([y for _, y in batch])
        optimizer.zero_grad()
        loss = F.nll_loss(model(inputs), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    test = data[-200:]
    with torch.no_grad():
        predicted = model(quantize([n for n, _ in test])).argmax(1)
    accuracy = (predicted == torch.tensor([y for _, y in test])).float().mean().item()
    return {"initial": weights, "losses": losses, "accuracy": accuracy,
            "predicted": predicted.tolist()}


def test_the_char_cnn_classifier_runs_unchanged_and_follows_pytorch():
    ours, theirs = run_both(char_cnn)
    assert np.mean(ours["losses"][-10:]) < 0.6 * np.mean(ours["losses"][:10])  # it learns
    assert ours["accuracy"] > 0.8  # (half the names end in a vowel)
    if theirs is not None:  # step by step, from the same weights, to float32 rounding
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-5)
        assert ours["predicted"] == theirs["predicted"]


def test_with_dropout_it_still_learns():
    """The paper's dropout (each library draws its own masks: no step-by-step comparison)."""
    ours, _ = run_both(char_cnn, steps=40, dropout=0.5)
    assert np.mean(ours["losses"][-10:]) < np.mean(ours["losses"][:10])
