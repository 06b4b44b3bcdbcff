// Draws the dashboard's charts with the vendored Chart.js from the figures the page embeds.
"use strict";

(function () {
  const COLOURS = ["#417690", "#e07b39", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f"];
  const PERCENT = new Set(["success_rate", "mean_confidence", "accuracy"]);

  function trendChart(canvas, trends) {
    const figure = canvas.dataset.figure;
    const datasets = Object.entries(trends.types).map(([type, series], index) => ({
      label: type,
      data: series[figure],
      borderColor: COLOURS[index % COLOURS.length],
      backgroundColor: COLOURS[index % COLOURS.length],
      spanGaps: true,
      pointRadius: 2,
    }));
    const scale = PERCENT.has(figure) ? { min: 0, max: 1 } : { beginAtZero: true };
    return new Chart(canvas, {
      type: "line",
      data: { labels: trends.periods, datasets },
      options: { animation: false, maintainAspectRatio: false, scales: { y: scale } },
    });
  }

  function reliabilityChart(canvas, calibration) {
    const observed = calibration
      .filter((row) => row.accuracy !== null)
      .map((row) => ({ x: row.expected, y: row.accuracy }));
    return new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: "fields left uncorrected", data: observed, showLine: true, borderColor: COLOURS[0], backgroundColor: COLOURS[0] },
          { label: "perfect calibration", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, borderDash: [4, 4], borderColor: "#999", pointRadius: 0 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { min: 0, max: 1, title: { display: true, text: "field confidence" } }, y: { min: 0, max: 1 } },
      },
    });
  }

  function draw() {
    const data = JSON.parse(document.getElementById("qv-chart-data").textContent);
    document.querySelectorAll("canvas[data-figure]").forEach((canvas) => trendChart(canvas, data.trends));
    reliabilityChart(document.getElementById("qv-chart-reliability"), data.calibration);
    document.body.dataset.chartsDrawn = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
