"""The frames of ``animate_backward`` drawn over one laid-out graph: an animated SVG and an HTML
player. Nothing moves: the marks of the frames (a tint on each box whose gradient is complete, a
bar filling up as a box's gradients arrive, the edges a gradient went down, the values as text, a
caption above) are laid over the drawing, each mark once with the frames it shows in
(``data-f="first last"``), so a file grows with the frames, not with frames × boxes. The SVG shows
them in turn with CSS keyframes (it plays in an ``<img>``), the player with a few lines of inline
JavaScript; neither loads anything from the network. Without either (scripts blocked, a viewer
without CSS animations) the last frame shows, and the player lists every caption.
"""
import html
import re
import textwrap
import uuid
import xml.etree.ElementTree as ET

SVG, XLINK = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
NS = {"svg": SVG}
ROOM = 10  # points above the drawing, where the badges of its top row go
FONT = "Helvetica,Arial,sans-serif"
TEXT = {"font-family": FONT, "paint-order": "stroke", "stroke": "white",
        "stroke-linejoin": "round"}
# each kind of mark is a layer, in drawing order; its look is in presentation attributes, which
# its marks inherit (a notebook that strips <style> from an output keeps them)
LAYERS = {
    "carried": {"fill": "none", "stroke": "#31a354", "stroke-width": "1.6",
                "stroke-opacity": ".8"},
    "carry": {"fill": "none", "stroke": "#f03b20", "stroke-width": "3"},
    "done": {"fill": "#31a354", "fill-opacity": ".16", "stroke": "#31a354", "stroke-width": "1.4"},
    "partial": {"fill": "none", "stroke": "#fd8d3c", "stroke-width": "1.4",
                "stroke-dasharray": "3 2"},
    "bar": {"fill": "#fd8d3c", "stroke": "none"},
    "active": {"fill": "#f03b20", "fill-opacity": ".2", "stroke": "#f03b20", "stroke-width": "3"},
    "badge": {**TEXT, "font-size": "8px", "fill": "#7f2704", "stroke-width": "2.5px"},
    "sent": {**TEXT, "font-size": "9px", "font-weight": "bold", "fill": "#d7301f",
             "stroke-width": "3px"},
}
CAPTION = {"font-family": FONT, "font-size": "11px", "fill": "#222"}


def animated(svg, frames, seconds):
    """The drawing ``svg`` with ``frames`` shown one after another, ``seconds`` each (the last one
    three times as long), looping: each mark is visible from the start of its first frame for the
    length of its frames, once per cycle (a negative delay starts every mark at once)."""
    prefix, n = _prefix(), len(frames)
    cycle = (n + 2) * seconds
    lengths = {}  # a mark's length in seconds -> its keyframes' name

    def animate(mark, first, last):
        length = (last - first + 1 + 2 * (last == n - 1)) * seconds
        if length < cycle:  # (a mark of every frame needs none)
            name = lengths.setdefault(length, f"{prefix}-k{len(lengths)}")
            mark.set("style", f"animation: {name} {cycle:g}s step-end "
                              f"{first * seconds - cycle:g}s infinite")

    root = _Drawing(svg, prefix).write(frames, animate)
    style = ET.Element(f"{{{SVG}}}style")
    style.text = "".join(f"@keyframes {name} {{0% {{visibility: visible}} "
                         f"{100 * length / cycle:.4f}% {{visibility: hidden}} "
                         f"100% {{visibility: hidden}}}}\n" for length, name in lengths.items())
    root.insert(0, style)
    return ET.tostring(root, encoding="unicode")


def player(svg, frames, page):
    """An HTML player of ``frames`` over ``svg``: buttons, a slider, play, and every caption in a
    list; a whole page (``page``) or a fragment for Jupyter. Its ids are new each time (a notebook
    may show two walks, or an old output and a new one after a restart)."""
    prefix = _prefix()
    root = _Drawing(svg, prefix, zoom=1.5).write(frames, None)  # (a small drawing: larger)
    root.set("style", "max-width: 100%; height: auto")
    items = "".join(f"<li>{html.escape(frame.caption)}</li>" for frame in frames)
    body = f"""\
<div id="{prefix}-player" tabindex="0" style="font-family: {FONT}; font-size: 13px; outline: none">
<div class="controls" style="margin: 4px 0; display: none">
<button data-go="first" title="first frame">first</button>
<button data-go="prev" title="previous frame (left arrow)">&#x25C0;</button>
<button data-go="play" title="play / pause">play</button>
<button data-go="next" title="next frame (right arrow)">&#x25B6;</button>
<input type="range" min="0" max="{len(frames) - 1}" value="{len(frames) - 1}" style="vertical-align: middle; width: 260px">
<span class="count"></span>
</div>
{ET.tostring(root, encoding="unicode")}
<details><summary>every frame in words</summary><ol start="0">{items}</ol></details>
</div>
<script>{SCRIPT.replace("PLAYER", prefix + "-player")}</script>"""
    if not page:
        return body
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>The backward walk</title>"
            f"</head>\n<body style=\"margin: 12px\">\n{body}\n</body></html>\n")


def _prefix():
    """A new prefix for the ids of one drawing (random, as matplotlib's and bokeh's)."""
    return f"walk-{uuid.uuid4().hex}"


# the player: a mark shows in the frames of its data-f="first last"; #frame=<k> opens frame k
SCRIPT = """
(function () {
  var root = document.getElementById("PLAYER");
  var marks = root.querySelectorAll("[data-f]"), slider = root.querySelector("input");
  var spans = Array.prototype.map.call(marks, function (m) {
    return m.getAttribute("data-f").split(" ").map(Number);
  });
  var count = root.querySelector(".count"), play = root.querySelector("[data-go=play]");
  var last = +slider.max, at = 0, timer = null;
  function show(k) {
    at = Math.max(0, Math.min(last, k));
    for (var i = 0; i < marks.length; i++)
      marks[i].style.visibility = spans[i][0] <= at && at <= spans[i][1] ? "visible" : "hidden";
    slider.value = at;
    count.textContent = "frame " + at + " of " + last;
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = "play"; }
  var moves = {first: function () { return 0; }, prev: function () { return at - 1; },
               next: function () { return at + 1; }};
  root.querySelectorAll("button").forEach(function (b) {
    b.onclick = function () {
      var go = b.getAttribute("data-go");
      if (go !== "play") { stop(); show(moves[go]()); return; }
      if (timer) { stop(); return; }
      if (at === last) show(0);
      play.textContent = "pause";
      timer = setInterval(function () { if (at >= last) stop(); else show(at + 1); }, 1200);
    };
  });
  slider.oninput = function () { stop(); show(+slider.value); };
  root.onkeydown = function (e) {
    if (e.key === "ArrowLeft") { stop(); show(at - 1); }
    if (e.key === "ArrowRight") { stop(); show(at + 1); }
  };
  root.querySelector(".controls").style.display = "block";
  var asked = /frame=(\\d+)/.exec(location.hash);
  show(asked ? +asked[1] : 0);
})();
"""


class _Drawing:
    """The graphviz SVG, read once: where each box is, the path of each edge, and room above for
    the caption; ``write`` lays the marks of the frames over it."""

    def __init__(self, svg, prefix, zoom=1.0):
        ET.register_namespace("", SVG)
        ET.register_namespace("xlink", XLINK)
        self.root, self.prefix, self.zoom = ET.fromstring(svg), prefix, zoom
        self.graph = self.root.find("svg:g", NS)
        for element in self.root.iter():  # (graphviz's ids, node1, edge1, ..., would clash too)
            if element.get("id"):
                element.set("id", f"{prefix}-{element.get('id')}")
        self.boxes, self.edges = {}, {}  # box name -> (x0, y0, x1, y1); (a, b) -> [path d]
        for g in self.graph.iter(f"{{{SVG}}}g"):
            title = g.find("svg:title", NS)
            if g.get("class") == "node":
                self.boxes[title.text] = _bounds(g)
            elif g.get("class") == "edge":
                a, b = title.text.split("->")
                self.edges.setdefault((a, b), []).extend(
                    p.get("d") for p in g.findall("svg:path", NS))

    def write(self, frames, animate):
        """The SVG element: the drawing and every mark of ``frames``, each with its frames in
        ``data-f``, visible only if it is in the last frame; ``animate(mark, first, last)``, if
        given, animates one."""
        root, p = self.root, self.prefix
        root.set("id", p)
        x, y, width, height = map(float, root.get("viewBox").split())
        wide = max(width, 460.0)  # captions need room to be read
        lines = [textwrap.wrap(f.caption, int(wide / 5.6)) for f in frames]
        band = 16 + 13 * max(map(len, lines))
        scale = float(root.get("height").rstrip("pt")) / height
        zoom = max(1.0, min(self.zoom, 800 / (scale * wide), 600 / (scale * height)))
        top = y - ROOM - band  # the caption above (always in sight), then room for badges
        root.set("viewBox", f"{x:.2f} {top:.2f} {wide:.2f} {height + ROOM + band:.2f}")
        root.set("width", f"{wide * scale * zoom:.0f}pt")
        root.set("height", f"{(height + ROOM + band) * scale * zoom:.0f}pt")
        ET.SubElement(root, f"{{{SVG}}}rect", x=f"{x:.2f}", y=f"{top:.2f}", width=f"{wide:.2f}",
                      height=f"{ROOM + band:.2f}", fill="white")
        defs, ids = ET.SubElement(root, f"{{{SVG}}}defs"), {}
        for k, (edge, paths) in enumerate(self.edges.items()):
            ids[edge] = [f"{p}-e{k}-{j}" for j in range(len(paths))]
            for ref, d in zip(ids[edge], paths):
                ET.SubElement(defs, f"{{{SVG}}}path", id=ref, d=d)
        over = ET.SubElement(root, f"{{{SVG}}}g", transform=self.graph.get("transform"))
        layers = {kind: ET.SubElement(over, f"{{{SVG}}}g", {"class": kind, **look})
                  for kind, look in LAYERS.items()}
        spans = {}  # mark -> the frames it shows in
        for frame in frames:
            for mark in self._marks(frame, ids):
                spans.setdefault(mark, []).append(frame.index)
        last = len(frames) - 1
        for (kind, tag, attrs, text), indices in spans.items():
            for first, end in _runs(indices):
                _mark(layers[kind], tag, attrs, text, first, end, last, animate)
        captions = ET.SubElement(root, f"{{{SVG}}}g", {"class": "caption", **CAPTION})
        for frame, text in zip(frames, lines):
            caption = _mark(captions, "text", (("x", f"{x + 8:.2f}"), ("y", f"{top + 14:.2f}")),
                            None, frame.index, frame.index, last, animate)
            for i, line in enumerate(text):
                tspan = ET.SubElement(caption, f"{{{SVG}}}tspan", x=f"{x + 8:.2f}",
                                      dy="0" if i == 0 else "13")
                tspan.text = line
        return root

    def _marks(self, frame, ids):
        """The marks of one frame, as ``(layer, tag, attributes, text)``: edges that carried a
        gradient (before: green; now: red, with its value), boxes (complete: green tint;
        completing now: red; partly arrived: a bar of k/n), each box's gradient so far."""
        for edge in frame.carried:
            for ref in ids.get(edge, ()):
                kind = "carry" if edge in frame.sent else "carried"
                yield kind, "use", (("href", f"#{ref}"),), None
        for name, (x0, y0, x1, y1) in self.boxes.items():
            k, n = frame.received.get(name, (0, 0))
            kind = ("active" if name in frame.completed else "done" if name in frame.done
                    else "partial" if k else None)
            if kind is None:
                continue
            yield kind, "rect", _box(x0 - 1.5, y0 - 1.5, x1 - x0 + 3, y1 - y0 + 3), None
            if kind == "partial":
                yield "bar", "rect", _box(x0, y1 - 3, (x1 - x0) * k / n, 3), None
            text = frame.grad_text.get(name)
            if n > 1 and kind == "partial":
                text = f"{k}/{n}" + (f": {text}" if text and x1 - x0 > 40 else "")
            if text and (x1 - x0 > 40 or kind == "partial"):  # (a folded step is too small)
                yield "badge", "text", _at(x1, y0 - 2.5, "end"), text
        for edge, text in frame.sent_text.items():
            if len(text) > 8:
                continue  # (a vector would cover its neighbours: the caption has it)
            for d in self.edges.get(edge, ())[:1]:
                mx, my = _middle(d)
                yield "sent", "text", _at(mx, my - 3, "middle"), text


def _runs(indices):
    """``(first, last)`` of each run of consecutive frame numbers in ``indices`` (ascending)."""
    start = previous = indices[0]
    for i in indices[1:]:
        if i != previous + 1:
            yield start, previous
            start = i
        previous = i
    yield start, previous


def _mark(layer, tag, attrs, text, first, end, last, animate):
    """One mark in ``layer``, shown in frames ``first``..``end``; hidden unless the last frame
    (``last``) is among them, which is what shows when nothing runs."""
    mark = ET.SubElement(layer, f"{{{SVG}}}{tag}", dict(attrs))
    if tag == "use":
        mark.set(f"{{{XLINK}}}href", mark.get("href"))  # (older viewers read only xlink:href)
    mark.set("data-f", f"{first} {end}")
    if end != last:
        mark.set("visibility", "hidden")
    if animate is not None:
        animate(mark, first, end)
    mark.text = text
    return mark


def _box(x, y, width, height):
    return (("x", f"{x:.2f}"), ("y", f"{y:.2f}"), ("width", f"{max(width, 0):.2f}"),
            ("height", f"{height:.2f}"), ("rx", "3"))


def _at(x, y, anchor):
    return ("x", f"{x:.2f}"), ("y", f"{y:.2f}"), ("text-anchor", anchor)


def _bounds(g):
    """``(x0, y0, x1, y1)`` around the shapes of a box (polygons, paths, ellipses)."""
    xs, ys = [], []
    for shape in g.iter():
        tag = shape.tag.split("}")[-1]
        if tag in ("polygon", "polyline", "path"):
            numbers = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?",
                                                    shape.get("points") or shape.get("d"))]
            xs += numbers[0::2]
            ys += numbers[1::2]
        elif tag == "ellipse":
            cx, cy, rx, ry = (float(shape.get(a)) for a in ("cx", "cy", "rx", "ry"))
            xs += [cx - rx, cx + rx]
            ys += [cy - ry, cy + ry]
    return min(xs), min(ys), max(xs), max(ys)


def _middle(d):
    """The middle control point of an edge's path: where its label goes."""
    numbers = [float(v) for v in re.findall(r"-?\d+\.?\d*", d)]
    points = list(zip(numbers[0::2], numbers[1::2]))
    return points[len(points) // 2]
