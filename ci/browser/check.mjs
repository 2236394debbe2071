// Opens a chanlab report in headless Chromium (Debian's, at
// /usr/bin/chromium) and checks what a reader would see:
//   - the page loads and nothing on it reaches outside the file (no
//     external script, font, style or image);
//   - no console error or warning and no uncaught exception;
//   - as many charts as the page declares (<main data-charts="N">), each a
//     figure with a caption and an SVG drawn at a visible size, on screen
//     and in print;
//   - the answer (section#answer) opens the page: its first row is on the
//     first screen at 1366x768.
// Usage: node check.mjs REPORT.html [--screenshot FILE.png]
// Exit status: 0 when every check passes, 1 with the failures listed.

import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const args = process.argv.slice(2);
const report = args[0];
const shotAt = args.indexOf("--screenshot");
const screenshot = shotAt >= 0 ? args[shotAt + 1] : null;
if (!report) {
  console.error("usage: node check.mjs REPORT.html [--screenshot FILE.png]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith("file:") && !url.startsWith("data:")) {
      problems.push(`the page reaches outside itself: ${url}`);
    }
  });
  page.on("requestfailed", (request) =>
    problems.push(`failed to load ${request.url()}: ${request.failure()?.errorText}`),
  );

  await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: "load" });

  for (const media of ["screen", "print"]) {
    await page.emulateMedia({ media });
    const seen = await page.evaluate(() => {
      const main = document.querySelector("main[data-charts]");
      const figures = [...document.querySelectorAll("figure.chart")];
      return {
        declared: main ? Number(main.dataset.charts) : null,
        figures: figures.map((figure) => {
          const svg = figure.querySelector("svg");
          const box = svg ? svg.getBoundingClientRect() : null;
          return {
            id: figure.id,
            caption: figure.querySelector("figcaption")?.textContent.trim() ?? "",
            width: box ? box.width : 0,
            height: box ? box.height : 0,
            marks: svg ? svg.querySelectorAll("rect, line, polyline, path, circle").length : 0,
          };
        }),
      };
    });
    if (seen.declared === null) {
      problems.push("no <main data-charts> says how many charts the page has");
    } else if (seen.declared !== seen.figures.length) {
      problems.push(`${media}: the page declares ${seen.declared} charts but has ${seen.figures.length}`);
    }
    for (const figure of seen.figures) {
      if (!figure.caption) problems.push(`${media}: chart ${figure.id} has no caption`);
      if (figure.width < 200 || figure.height < 50) {
        problems.push(`${media}: chart ${figure.id} is not drawn at a visible size (${figure.width}x${figure.height})`);
      }
      if (figure.marks < 5) problems.push(`${media}: chart ${figure.id} draws nothing (${figure.marks} marks)`);
    }
    if (media === "screen") {
      console.log(`${seen.figures.length} charts of ${seen.declared} declared`);
    }
  }
  await page.emulateMedia({ media: "screen" });
  // The answer opens the page: its table's first row is on the first
  // screen of a 1366x768 laptop.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const answer = await page.evaluate(() => {
    const row = document.querySelector("section#answer tbody tr");
    return row ? row.getBoundingClientRect().bottom : null;
  });
  if (answer === null) {
    problems.push("the page has no answer table (section#answer)");
  } else if (answer > 768) {
    problems.push(`the answer is not on the first screen at 1366x768: its first row ends at ${Math.round(answer)}px`);
  }
  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: false });
    console.log(`screenshot: ${screenshot}`);
  }
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.error(`FAIL: ${report}`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`pass: ${report} renders in headless Chromium with every chart and no console error`);
