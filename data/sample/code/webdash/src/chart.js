// A fixed-size ring of numbers drawn as an SVG polyline.
const SVG_NS = "http://www.w3.org/2000/svg";

export class Sparkline {
  constructor(name, capacity) {
    this.name = name;
    this.capacity = capacity;
    this.values = [];
  }

  push(value) {
    this.values.push(Number(value));
    if (this.values.length > this.capacity) {
      this.values.shift();
    }
  }

  last() {
    return this.values.length ? this.values[this.values.length - 1] : NaN;
  }

  toSvg(width, height) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    if (this.values.length < 2) {
      return svg;
    }
    const min = Math.min(...this.values);
    const max = Math.max(...this.values);
    const span = max - min || 1;
    const step = width / (this.values.length - 1);
    const points = this.values
      .map((v, i) => `${(i * step).toFixed(1)},${(height - ((v - min) / span) * height).toFixed(1)}`)
      .join(" ");
    const line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    svg.appendChild(line);
    return svg;
  }
}
