"""PyTorch's tutorial "Sequence Models and Long Short-Term Memory Networks" (the LSTM part-of-speech
tagger), ported in our own words with the same calls, run with only the import switched."""
import numpy as np

from tests.programs.harness import run_both, start


def lstm_tagger(torch, initial, epochs=200):  # (the tutorial runs 300)
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    torch.manual_seed(1)

    def prepare_sequence(seq, to_ix):
        return torch.tensor([to_ix[w] for w in seq], dtype=torch.long)

    training_data = [("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
                     ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])]
    word_to_ix = {}
    for sentence, _ in training_data:
        for word in sentence:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
            super(LSTMTagger, self).__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    model = LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix))
    weights = start(model, initial, torch)
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    losses = []
    for epoch in range(epochs):
        for sentence, tags in training_data:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            tag_scores = model(sentence_in)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    with torch.no_grad():
        inputs = prepare_sequence(training_data[0][0], word_to_ix)
        tag_scores = model(inputs)
        _, predicted = tag_scores.max(1)  # the tutorial reads the scores; the indices say it all
    return {"initial": weights, "losses": losses, "predicted": predicted.tolist()}


def test_the_lstm_tagger_tutorial_runs_unchanged_and_follows_pytorch():
    ours, theirs = run_both(lstm_tagger)
    assert ours["losses"][-1] < 0.5 * ours["losses"][0]  # it learns (from either start)
    right = [p == t for p, t in zip(ours["predicted"], [0, 1, 2, 0, 1])]  # DET NN V DET NN
    assert sum(right) >= 4  # ("The", seen once, may still be taken for a noun)
    if theirs is not None:  # step by step, from the same weights, to float32 rounding
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-4, atol=1e-6)
        assert ours["predicted"] == theirs["predicted"]
