"""PyTorch's tutorial "NLP From Scratch: Translation with a Sequence to Sequence Network and
Attention" (its current version: a batch_first GRU encoder, a GRU decoder with Bahdanau attention
stepped one token at a time, the pairs padded into numpy arrays and served by TensorDataset,
RandomSampler and DataLoader, Adam on NLLLoss), ported in our own words with the same calls, run
with only the import switched. The tutorial's French-English file is not here: the port writes a
small one in its format (ages and a few states, with accents, apostrophes and lines the tutorial's
filter drops) and reads it with the tutorial's own normalizing, filtering and counting code."""
import random
import re
import unicodedata

import numpy as np

from tests.programs.harness import run_both, start

SUBJECTS = [("I am", "J'ai"), ("He is", "Il a"), ("She is", "Elle a"), ("You are", "Tu as"),
            ("We are", "Nous avons"), ("They are", "Ils ont")]
NUMBERS = [("two", "deux"), ("three", "trois"), ("four", "quatre"), ("five", "cinq"),
           ("six", "six"), ("seven", "sept"), ("eight", "huit"), ("nine", "neuf"),
           ("ten", "dix"), ("eleven", "onze")]
OTHERS = [("I am tired.", "Je suis fatigué."), ("She is tired.", "Elle est fatiguée."),
          ("We are ready.", "Nous sommes prêts."), ("They are here.", "Ils sont là."),
          ("What time is it?", "Quelle heure est-il ?"),  # (not "I am ...": filtered out)
          ("I am sure that he will come back here before ten tonight.",  # (too long: out)
           "Je suis sûr qu'il reviendra ici avant dix heures ce soir.")]


def eng_fra():
    """The tutorial's ``data/eng-fra.txt`` in its format: ``English<TAB>French`` a line."""
    pairs = [(f"{s} {n} years old.", f"{f} {m} ans.") for s, f in SUBJECTS for n, m in NUMBERS]
    return "\n".join(f"{e}\t{f}" for e, f in pairs + OTHERS) + "\n"


def seq2seq_translation(torch, initial, n_epochs=40, batch_size=32, dropout_p=0.1):
    """The tutorial's program; ``dropout_p`` is its encoder's and decoder's argument (the run
    compared with PyTorch sets it to 0: the two libraries draw different masks)."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    data = torch.utils.data  # (the tutorial's `from torch.utils.data import ...`)
    TensorDataset, DataLoader, RandomSampler = data.TensorDataset, data.DataLoader, data.RandomSampler

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    SOS_token, EOS_token, MAX_LENGTH = 0, 1, 10

    class Lang:
        def __init__(self, name):
            self.name = name
            self.word2index = {}
            self.word2count = {}
            self.index2word = {0: "SOS", 1: "EOS"}
            self.n_words = 2

        def addSentence(self, sentence):
            for word in sentence.split(" "):
                self.addWord(word)

        def addWord(self, word):
            if word not in self.word2index:
                self.word2index[word] = self.n_words
                self.word2count[word] = 1
                self.index2word[self.n_words] = word
                self.n_words += 1
            else:
                self.word2count[word] += 1

    def unicodeToAscii(s):
        return "".join(c for c in unicodedata.normalize("NFD", s)
                       if unicodedata.category(c) != "Mn")

    def normalizeString(s):
        s = unicodeToAscii(s.lower().strip())
        s = re.sub(r"([.!?])", r" \1", s)
        s = re.sub(r"[^a-zA-Z.!?]+", r" ", s)
        return s

    def readLangs(lang1, lang2, reverse=False):
        lines = eng_fra().strip().split("\n")  # (the tutorial opens data/eng-fra.txt)
        pairs = [[normalizeString(s) for s in l.split("\t")] for l in lines]
        if reverse:
            pairs = [list(reversed(p)) for p in pairs]
            input_lang, output_lang = Lang(lang2), Lang(lang1)
        else:
            input_lang, output_lang = Lang(lang1), Lang(lang2)
        return input_lang, output_lang, pairs

    eng_prefixes = ("i am ", "i m ", "he is", "he s ", "she is", "she s ", "you are", "you re ",
                    "we are", "we re ", "they are", "they re ")

    def filterPair(p):
        return len(p[0].split(" ")) < MAX_LENGTH and \
            len(p[1].split(" ")) < MAX_LENGTH and p[1].startswith(eng_prefixes)

    def prepareData(lang1, lang2, reverse=False):
        input_lang, output_lang, pairs = readLangs(lang1, lang2, reverse)
        pairs = [pair for pair in pairs if filterPair(pair)]
        for pair in pairs:
            input_lang.addSentence(pair[0])
            output_lang.addSentence(pair[1])
        return input_lang, output_lang, pairs

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super(EncoderRNN, self).__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):  # (batch, T) -> (batch, T, hidden), (1, batch, hidden)
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super(BahdanauAttention, self).__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):  # (batch, 1, hidden), (batch, T, hidden)
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super(AttnDecoderRNN, self).__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long,
                                        device=device).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            attentions = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs)
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:  # teacher forcing: the next target is the input
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:  # its own prediction, detached from the history
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)
            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)
            output, hidden = self.gru(input_gru, hidden)
            output = self.out(output)
            return output, hidden, attn_weights

    def indexesFromSentence(lang, sentence):
        return [lang.word2index[word] for word in sentence.split(" ")]

    def tensorFromSentence(lang, sentence):
        indexes = indexesFromSentence(lang, sentence)
        indexes.append(EOS_token)
        return torch.tensor(indexes, dtype=torch.long, device=device).view(1, -1)

    def get_dataloader(batch_size):
        input_lang, output_lang, pairs = prepareData("eng", "fra", True)
        n = len(pairs)
        input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
        target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
        for idx, (inp, tgt) in enumerate(pairs):
            inp_ids = indexesFromSentence(input_lang, inp)
            tgt_ids = indexesFromSentence(output_lang, tgt)
            inp_ids.append(EOS_token)
            tgt_ids.append(EOS_token)
            input_ids[idx, :len(inp_ids)] = inp_ids
            target_ids[idx, :len(tgt_ids)] = tgt_ids
        train_data = TensorDataset(torch.LongTensor(input_ids).to(device),
                                   torch.LongTensor(target_ids).to(device))
        train_sampler = RandomSampler(train_data)
        train_dataloader = DataLoader(train_data, sampler=train_sampler, batch_size=batch_size)
        return input_lang, output_lang, pairs, train_dataloader

    def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer,
                    criterion):
        total_loss = 0
        for data in dataloader:
            input_tensor, target_tensor = data
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                             target_tensor.view(-1))
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        return total_loss / len(dataloader)

    def train(train_dataloader, encoder, decoder, n_epochs, learning_rate=0.001):
        encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
        decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
        criterion = nn.NLLLoss()
        return [train_epoch(train_dataloader, encoder, decoder, encoder_optimizer,
                            decoder_optimizer, criterion) for epoch in range(n_epochs)]

    def evaluate(encoder, decoder, sentence, input_lang, output_lang):
        with torch.no_grad():
            input_tensor = tensorFromSentence(input_lang, sentence)
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs,
                                                                    encoder_hidden)
            _, topi = decoder_outputs.topk(1)
            decoded_ids = topi.squeeze()
            decoded_words = []
            for idx in decoded_ids:
                if idx.item() == EOS_token:
                    decoded_words.append("<EOS>")
                    break
                decoded_words.append(output_lang.index2word[idx.item()])
        return decoded_words, decoder_attn

    random.seed(0)
    torch.manual_seed(0)
    hidden_size = 32  # (the tutorial's is 128)
    input_lang, output_lang, pairs, train_dataloader = get_dataloader(batch_size)
    encoder = EncoderRNN(input_lang.n_words, hidden_size, dropout_p).to(device)
    decoder = AttnDecoderRNN(hidden_size, output_lang.n_words, dropout_p).to(device)
    weights = {name: start(model, initial and initial[name], torch)
               for name, model in (("encoder", encoder), ("decoder", decoder))}
    # (the tutorial's learning rate, 0.001, takes its thousands of steps)
    losses = train(train_dataloader, encoder, decoder, n_epochs, learning_rate=0.03)
    encoder.eval()
    decoder.eval()
    translations = {}
    for source, _ in pairs:  # (the tutorial's evaluateAndShowAttention, without the plot)
        output_words, attentions = evaluate(encoder, decoder, source, input_lang, output_lang)
        shown = attentions[0, :len(output_words), :].cpu().numpy()  # (words out, words in)
        translations[source] = (" ".join(output_words), shown)
    return {"initial": weights, "losses": losses, "pairs": pairs, "translations": translations}


def test_the_translation_tutorial_runs_unchanged_and_follows_pytorch():
    n_pairs = 64  # one batch an epoch: the sampler's order (each library's) cannot matter
    ours, theirs = run_both(seq2seq_translation, batch_size=n_pairs, dropout_p=0.0)
    pairs = ours["pairs"]  # normalized, reversed (French first), filtered as the tutorial does
    assert len(pairs) == n_pairs and ["j ai deux ans .", "i am two years old ."] in pairs
    assert ["elle est fatiguee .", "she is tired ."] in pairs
    assert ours["losses"][-1] < ours["losses"][0] / 10  # Adam on NLLLoss: it learns
    right = [ours["translations"][source][0] == target + " <EOS>" for source, target in pairs]
    assert np.mean(right) > 0.5
    for source, (words, attentions) in ours["translations"].items():  # a row per word out,
        assert attentions.shape == (len(words.split()), len(source.split()) + 1)  # a column
        np.testing.assert_allclose(attentions.sum(1), 1, rtol=1e-5)  # per word in and EOS
    if theirs is not None:  # the same weights: the same losses, translations and attention
        np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5, atol=1e-6)
        for source, (words, attentions) in theirs["translations"].items():
            assert ours["translations"][source][0] == words
            # (40 steps of float32 drift in the weights, sharpened by the softmax, reach 1.5e-5)
            np.testing.assert_allclose(ours["translations"][source][1], attentions, atol=1e-4)


def test_the_translation_tutorial_trains_in_shuffled_batches_with_its_dropout():
    ours, theirs = run_both(seq2seq_translation, n_epochs=10)  # 2 batches of 32 an epoch
    assert ours["losses"][-1] < ours["losses"][0] / 4
    if theirs is not None:  # other orders and masks, the same data: the same curve on average
        np.testing.assert_allclose(ours["losses"], theirs["losses"], atol=0.1)
