"""The frames of ``animate_backward`` drawn over one laid-out graph: an animated SVG and an HTML
player. Nothing moves: each frame is a group of marks laid over the drawing (a tint on each box
whose gradient is complete, a bar filling up as a box's gradients arrive, the edges a gradient
went down, the values as text, a caption below); a frame shows by making its group visible. The
SVG does it with CSS keyframes (it plays in an ``<img>``), the player with a few lines of inline
JavaScript; neither loads anything from the network.
"""
import itertools
import re
import textwrap
import xml.etree.ElementTree as ET

SVG, XLINK = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
NS = {"svg": SVG}
PREFIX = "walk"  # the ids of a saved file (a notebook numbers its walks: ids must not clash)
ROOM = 10  # points above the drawing, where the badges of its top row go
FONT = "font-family:Helvetica,Arial,sans-serif"
STYLE = """\
#{p} .frame {{visibility: hidden}}
#{p} rect.done {{fill: #31a354; fill-opacity: .16; stroke: #31a354; stroke-width: 1.4}}
#{p} rect.active {{fill: #f03b20; fill-opacity: .2; stroke: #f03b20; stroke-width: 3}}
#{p} rect.partial {{fill: none; stroke: #fd8d3c; stroke-width: 1.4; stroke-dasharray: 3 2}}
#{p} rect.bar {{fill: #fd8d3c; stroke: none}}
#{p} use.carry {{fill: none; stroke: #f03b20; stroke-width: 3}}
#{p} use.carried {{fill: none; stroke: #31a354; stroke-width: 1.6; stroke-opacity: .8}}
#{p} text {{{font}; paint-order: stroke; stroke: white; stroke-linejoin: round}}
#{p} text.badge {{font-size: 8px; fill: #7f2704; stroke-width: 2.5px}}
#{p} text.sent {{font-size: 9px; font-weight: bold; fill: #d7301f; stroke-width: 3px}}
#{p} text.caption {{font-size: 11px; fill: #222; stroke-width: 0}}
"""


def animated(svg, frames, seconds):
    """The drawing ``svg`` with ``frames`` shown one after another, ``seconds`` each (the last one
    three times as long), looping."""
    drawn = _Drawing(svg, PREFIX)
    n, hold = len(frames), 3 * seconds
    cycle = (n - 1) * seconds + hold
    css = STYLE.format(p=PREFIX, font=FONT) + "".join(
        f"@keyframes {PREFIX}-{name} {{0% {{visibility: visible}} "
        f"{100 * length / cycle:.4f}% {{visibility: hidden}} 100% {{visibility: hidden}}}}\n"
        for name, length in (("step", seconds), ("last", hold)))
    for i in range(n):
        kind = "last" if i == n - 1 else "step"
        css += (f"#{PREFIX}-f{i} {{animation: {PREFIX}-{kind} {cycle:g}s step-end "
                f"{i * seconds:g}s infinite}}\n")
    return drawn.write(frames, css)


def player(svg, frames, page):
    """An HTML player of ``frames`` over ``svg``: buttons, a slider, play; a whole page (``page``)
    or a fragment for Jupyter, whose ids are numbered so that two walks can share a notebook."""
    prefix = PREFIX if page else f"{PREFIX}{next(_numbers)}"
    drawn = _Drawing(svg, prefix, zoom=1.5)  # (a small drawing reads better larger on a page)
    css = STYLE.format(p=prefix, font=FONT) + f"#{prefix} {{max-width: 100%; height: auto}}\n"
    css += f"#{prefix} .frame.on {{visibility: visible}}\n"
    body = f"""\
<div id="{prefix}-player" tabindex="0" style="{FONT}; font-size: 13px; outline: none">
<div style="margin: 4px 0">
<button data-go="first" title="first frame">first</button>
<button data-go="prev" title="previous frame (left arrow)">&#x25C0;</button>
<button data-go="play" title="play / pause">play</button>
<button data-go="next" title="next frame (right arrow)">&#x25B6;</button>
<input type="range" min="0" max="{len(frames) - 1}" value="0" style="vertical-align: middle; width: 260px">
<span class="count"></span>
</div>
{drawn.write(frames, css)}
</div>
<script>{SCRIPT.replace("PLAYER", prefix + "-player")}</script>"""
    if not page:
        return body
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>The backward walk</title>"
            f"</head>\n<body style=\"margin: 12px\">\n{body}\n</body></html>\n")


_numbers = itertools.count(1)

# the player: show one frame group at a time; #frame=<k> in the URL opens frame k
SCRIPT = """
(function () {
  var root = document.getElementById("PLAYER");
  var frames = root.querySelectorAll("g.frame"), slider = root.querySelector("input");
  var count = root.querySelector(".count"), play = root.querySelector("[data-go=play]");
  var at = 0, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    frames[at].classList.remove("on");
    at = k;
    frames[at].classList.add("on");
    slider.value = at;
    count.textContent = "frame " + at + " of " + (frames.length - 1);
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = "play"; }
  var moves = {first: function () { return 0; }, prev: function () { return at - 1; },
               next: function () { return at + 1; }};
  root.querySelectorAll("button").forEach(function (b) {
    b.onclick = function () {
      var go = b.getAttribute("data-go");
      if (go !== "play") { stop(); show(moves[go]()); return; }
      if (timer) { stop(); return; }
      if (at === frames.length - 1) show(0);
      play.textContent = "pause";
      timer = setInterval(function () { if (at >= frames.length - 1) stop(); else show(at + 1); },
                          1200);
    };
  });
  slider.oninput = function () { stop(); show(+slider.value); };
  root.onkeydown = function (e) {
    if (e.key === "ArrowLeft") { stop(); show(at - 1); }
    if (e.key === "ArrowRight") { stop(); show(at + 1); }
  };
  var asked = /frame=(\\d+)/.exec(location.hash);
  show(asked ? +asked[1] : 0);
})();
"""


class _Drawing:
    """The graphviz SVG, read once: where each box is, the path of each edge, and room below for
    the caption; ``write`` lays the frames over it."""

    def __init__(self, svg, prefix, zoom=1.0):
        ET.register_namespace("", SVG)
        ET.register_namespace("xlink", XLINK)
        self.root, self.prefix, self.zoom = ET.fromstring(svg), prefix, zoom
        self.graph = self.root.find("svg:g", NS)
        self.boxes, self.edges = {}, {}  # box name -> (x0, y0, x1, y1); (a, b) -> [path d]
        for g in self.graph.iter(f"{{{SVG}}}g"):
            title = g.find("svg:title", NS)
            if g.get("class") == "node":
                self.boxes[title.text] = _bounds(g)
            elif g.get("class") == "edge":
                a, b = title.text.split("->")
                self.edges.setdefault((a, b), []).extend(
                    p.get("d") for p in g.findall("svg:path", NS))

    def write(self, frames, css):
        """The SVG text: the drawing, a style sheet ``css``, and one hidden group per frame."""
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
        style = ET.SubElement(root, f"{{{SVG}}}style")
        style.text = css
        root.insert(0, style)
        defs, ids = ET.SubElement(root, f"{{{SVG}}}defs"), {}
        for k, (edge, paths) in enumerate(self.edges.items()):
            ids[edge] = [f"{p}-e{k}-{j}" for j in range(len(paths))]
            for ref, d in zip(ids[edge], paths):
                ET.SubElement(defs, f"{{{SVG}}}path", id=ref, d=d)
        for frame, text in zip(frames, lines):
            group = ET.SubElement(root, f"{{{SVG}}}g", id=f"{p}-f{frame.index}")
            group.set("class", "frame")
            self._marks(ET.SubElement(group, f"{{{SVG}}}g", transform=self.graph.get("transform")),
                        frame, ids)
            for i, line in enumerate(text):
                _text(group, "caption", x + 8, top + 14 + 13 * i, line, "start")
        return ET.tostring(root, encoding="unicode")

    def _marks(self, group, frame, ids):
        """The marks of one frame: edges that carried a gradient (before: green; now: red, with
        its value), then boxes (complete: green tint; completing now: red; partly arrived: a bar
        of k/n), then each box's gradient so far."""
        for edge in frame.carried:
            for ref in ids.get(edge, ()):
                _use(group, "carry" if edge in frame.sent else "carried", ref)
        for name, (x0, y0, x1, y1) in self.boxes.items():
            k, n = frame.received.get(name, (0, 0))
            kind = ("active" if name in frame.completed else "done" if name in frame.done
                    else "partial" if k else None)
            if kind is None:
                continue
            _rect(group, kind, x0 - 1.5, y0 - 1.5, x1 - x0 + 3, y1 - y0 + 3)
            if kind == "partial":
                _rect(group, "bar", x0, y1 - 3, (x1 - x0) * k / n, 3)
            text = frame.grad_text.get(name)
            if n > 1 and kind == "partial":
                text = f"{k}/{n}" + (f": {text}" if text and x1 - x0 > 40 else "")
            if text and (x1 - x0 > 40 or kind == "partial"):  # (a folded step is too small)
                _text(group, "badge", x1, y0 - 2.5, text, "end")
        for edge, text in frame.sent_text.items():
            if len(text) > 8:
                continue  # (a vector would cover its neighbours: the caption has it)
            for d in self.edges.get(edge, ())[:1]:
                mx, my = _middle(d)
                _text(group, "sent", mx, my - 3, text, "middle")


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


def _rect(parent, kind, x, y, width, height):
    r = ET.SubElement(parent, f"{{{SVG}}}rect", x=f"{x:.2f}", y=f"{y:.2f}",
                      width=f"{max(width, 0):.2f}", height=f"{height:.2f}", rx="3")
    r.set("class", kind)


def _use(parent, kind, ref):
    u = ET.SubElement(parent, f"{{{SVG}}}use", href=f"#{ref}")
    u.set(f"{{{XLINK}}}href", f"#{ref}")  # (older viewers read only xlink:href)
    u.set("class", kind)


def _text(parent, kind, x, y, text, anchor):
    t = ET.SubElement(parent, f"{{{SVG}}}text", x=f"{x:.2f}", y=f"{y:.2f}")
    t.set("class", kind)
    t.set("text-anchor", anchor)
    t.text = text
