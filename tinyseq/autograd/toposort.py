"""The one walk of the graph: every node below some roots, each after all of its consumers.

Backward needs this order: a node may run only when every op that used its outputs has sent its
gradient back, for only then is the node's gradient complete. ``ts.viz`` draws the graph in the same
order. The walk is a loop over a stack, not a recursion, so an unrolled sequence of 10,000 steps
(a graph tens of thousands of nodes deep) is fine. It is HIPS autograd's ``util.toposort`` for
several roots, returning a list rather than yielding (a generator costs the walk 4% on small ops).
"""


def toposort(roots):
    """Every node below ``roots`` once, in a list, each after all of the nodes that consume it.

    ``node.next_edges`` are a node's inputs: ``(input node, output index)``, or ``None`` for an
    argument that needs no gradient. First count, for each node, the edges that lead into it (its
    consumers); then take a node when the last of its consumers has been taken.
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
    order, ready = [], [node for node in dict.fromkeys(roots) if consumers[node] == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is not None:
                left = consumers[edge[0]] - 1
                consumers[edge[0]] = left
                if left == 0:
                    ready.append(edge[0])
    return order
