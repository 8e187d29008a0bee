"""The encoder-decoder of a popular PyTorch seq2seq tutorial (Sutskever et al.'s two LSTMs, the
decoder fed one token a step and its predictions written into ``outputs[t]``), ported in our own
words with the same calls and run with only the import switched, on a generated task: copy a
sequence of digits."""
import random

import numpy as np

from tests.programs.harness import run_both, start

PAD, SOS = 0, 1  # the other ids are digits 2..11


def seq2seq_program(torch, initial, steps=30, batch=8, length=5):
    nn, optim = torch.nn, torch.optim
    random.seed(0)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    vocab, emb, hid, n_layers = 12, 16, 32, 2

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.LSTM(emb, hid, n_layers, dropout=0.0)

        def forward(self, src):
            embedded = self.embedding(src)
            outputs, (hidden, cell) = self.rnn(embedded)
            return hidden, cell

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.output_dim = vocab
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.LSTM(emb, hid, n_layers, dropout=0.0)
            self.fc_out = nn.Linear(hid, vocab)

        def forward(self, input, hidden, cell):
            input = input.unsqueeze(0)
            embedded = self.embedding(input)
            output, (hidden, cell) = self.rnn(embedded, (hidden, cell))
            prediction = self.fc_out(output.squeeze(0))
            return prediction, hidden, cell

    class Seq2Seq(nn.Module):
        def __init__(self, encoder, decoder, device):
            super().__init__()
            self.encoder, self.decoder, self.device = encoder, decoder, device

        def forward(self, src, trg, teacher_forcing_ratio=0.5):
            trg_len, batch_size = trg.shape[0], trg.shape[1]
            outputs = torch.zeros(trg_len, batch_size, self.decoder.output_dim).to(self.device)
            hidden, cell = self.encoder(src)
            input = trg[0, :]
            for t in range(1, trg_len):
                output, hidden, cell = self.decoder(input, hidden, cell)
                outputs[t] = output
                teacher_force = random.random() < teacher_forcing_ratio
                top1 = output.argmax(1)
                input = trg[t] if teacher_force else top1
            return outputs

    def init_weights(m):
        for name, param in m.named_parameters():
            nn.init.uniform_(param.data, -0.08, 0.08)

    model = Seq2Seq(Encoder(), Decoder(), device).to(device)
    model.apply(init_weights)
    weights = start(model, initial, torch)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD)

    data = np.random.default_rng(0).integers(2, vocab, size=(steps, length, batch))
    losses = []
    model.train()
    for i in range(steps):
        src = torch.tensor(data[i], dtype=torch.long).to(device)
        trg = torch.cat([torch.full((1, batch), SOS, dtype=torch.long), src])
        optimizer.zero_grad()
        output = model(src, trg, teacher_forcing_ratio=1.0)  # (always the true token: no dice)
        output_dim = output.shape[-1]
        loss = criterion(output[1:].view(-1, output_dim), trg[1:].view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return {"initial": weights, "losses": losses}


def test_the_decoder_loop_writing_outputs_t_trains_and_follows_pytorch():
    ours, theirs = run_both(seq2seq_program)
    assert np.mean(ours["losses"][-5:]) < ours["losses"][0]  # the gradient reaches the model
    if theirs is not None:  # outputs[t] = output is recorded: the same gradients, the same losses
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-6)
