"""A deterministic cost measure for tests: how many gradient elements the ops' backwards return."""
from tinyseq.autograd import engine


def grad_elements(fn, monkeypatch):
    """Run ``fn`` (which calls backward) and count the elements of every gradient an op returned."""
    count, run = [0], engine.ARRAYS.run

    def counting(node, grads, retain_graph):
        out = run(node, grads, retain_graph)
        count[0] += sum(g.size for g in out if g is not None)
        return out

    monkeypatch.setattr(engine.ARRAYS, "run", staticmethod(counting))
    fn()
    monkeypatch.setattr(engine.ARRAYS, "run", staticmethod(run))
    return count[0]
