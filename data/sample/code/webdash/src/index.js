// webdash: a tiny dashboard that polls a JSON endpoint and draws sparklines.
import { Sparkline } from "./chart.js";
import { debounce, formatNumber } from "./utils.js";

const REFRESH_MS = 5000;

export class Dashboard {
  constructor(root, url) {
    this.root = root;
    this.url = url;
    this.charts = new Map();
    this.timer = null;
    this.onResize = debounce(() => this.render(), 150);
  }

  async poll() {
    const response = await fetch(this.url, { cache: "no-store" });
    if (!response.ok) {
      throw new Error(`GET ${this.url} failed with ${response.status}`);
    }
    const metrics = await response.json();
    for (const [name, value] of Object.entries(metrics)) {
      if (!this.charts.has(name)) {
        this.charts.set(name, new Sparkline(name, 60));
      }
      this.charts.get(name).push(value);
    }
    this.render();
  }

  render() {
    this.root.innerHTML = "";
    for (const chart of this.charts.values()) {
      const card = document.createElement("div");
      card.className = "card";
      card.innerHTML = `<h3>${chart.name}</h3><p>${formatNumber(chart.last())}</p>`;
      card.appendChild(chart.toSvg(this.root.clientWidth / 3, 40));
      this.root.appendChild(card);
    }
  }

  start() {
    window.addEventListener("resize", this.onResize);
    const tick = () => this.poll().catch((err) => console.error(err));
    tick();
    this.timer = setInterval(tick, REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    window.removeEventListener("resize", this.onResize);
  }
}
