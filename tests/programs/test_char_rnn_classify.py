"""PyTorch's tutorial "Classifying names with a character-level RNN" (its first version: an RNN cell
written from two Linear layers, trained by a hand-written SGD step on ``p.data``), ported in our own
words with the same calls, on the embedded first names, run with only the import switched."""
import random
import string

import numpy as np

from tests.programs.harness import run_both, start
from tinyseq.data import corpus


def char_rnn_classifier(torch, initial, steps=150):
    nn = torch.nn
    all_letters = string.ascii_letters + " .,;'"
    n_letters = len(all_letters)
    # two "languages": names that end in a vowel, and the others (the tutorial has 18 languages)
    names = corpus("names").split()[:2000]
    category_lines = {"vowel": [n for n in names if n[-1] in "aeiouy"],
                      "consonant": [n for n in names if n[-1] not in "aeiouy"]}
    all_categories = list(category_lines)
    n_categories = len(all_categories)

    def letterToIndex(letter):
        return all_letters.find(letter)

    def lineToTensor(line):
        tensor = torch.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][letterToIndex(letter)] = 1
        return tensor

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.i2o(combined)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    torch.manual_seed(0)
    rnn = RNN(n_letters, 32, n_categories)
    weights = start(rnn, initial, torch)

    def categoryFromOutput(output):
        top_n, top_i = output.topk(1)
        category_i = top_i[0].item()
        return all_categories[category_i], category_i

    criterion = nn.NLLLoss()
    learning_rate = 0.005

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        for p in rnn.parameters():  # the tutorial's own SGD step
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    rng = random.Random(0)  # (the same examples in both runs)
    losses, right = [], []
    for step in range(steps):
        category = rng.choice(all_categories)
        line = rng.choice(category_lines[category])
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        output, loss = train(category_tensor, lineToTensor(line))
        losses.append(loss)
        right.append(categoryFromOutput(output)[0] == category)
    return {"initial": weights, "losses": losses, "right": right}


def test_the_char_rnn_classification_tutorial_runs_unchanged_and_follows_pytorch():
    ours, theirs = run_both(char_rnn_classifier)
    assert len(ours["losses"]) == 150 and all(np.isfinite(ours["losses"]))
    if theirs is not None:  # the same weights, the same examples: the same losses and guesses
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-6)
        assert ours["right"] == theirs["right"]
