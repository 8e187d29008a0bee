"""The one walk of the graph: every node below some roots, each after all of its consumers.

Backward needs this order: a node may run only when every op that used its outputs has sent its
gradient back, for only then is the node's gradient complete. ``ts.viz`` draws the graph in the same
order. The walk is a loop over a stack, not a recursion, so an unrolled sequence of 10,000 steps
(a graph tens of thousands of nodes deep) is fine. It is HIPS autograd's ``util.toposort``, for
several roots.
"""


def toposort(roots):
    """Yield every node below ``roots`` once, each after all of the nodes that consume it.

    ``node.next_edges`` are a node's inputs: ``(input node, output index)``, or ``None`` for an
    argument that needs no gradient. First count, for each node, the edges that lead into it (its
    consumers); then yield a node when the last of them has been yielded.
    """
    consumers = dict.fromkeys(roots, 0)
    stack = list(consumers)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None:
                node = edge[0]
                if node in consumers:
                    consumers[node] += 1
                else:
                    consumers[node] = 1
                    stack.append(node)
    ready = [node for node in dict.fromkeys(roots) if consumers[node] == 0]
    while ready:
        node = ready.pop()
        yield node
        for edge in node.next_edges:
            if edge is not None:
                consumers[edge[0]] -= 1
                if consumers[edge[0]] == 0:
                    ready.append(edge[0])
