/** The stylesheet of the report and the dashboard: screen, and print (A4, no page-split charts). */
export const STYLE_CSS = `
:root { --fg:#0f172a; --muted:#475569; --line:#e2e8f0; --bg:#f8fafc; --card:#fff; --crit:#b91c1c; --warn:#b45309; --info:#1d4ed8; --ok:#15803d; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: #0f172a; color: #f8fafc; padding: 14px 24px; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 650; }
header.top .sub { color: #cbd5e1; font-size: 13px; }
header.top a { color: #93c5fd; }
nav.toc { padding: 8px 24px; background: #e2e8f0; font-size: 13px; display: flex; gap: 14px; flex-wrap: wrap; }
nav.toc a { color: #1e3a8a; text-decoration: none; }
main { padding: 16px 24px 40px; max-width: 1400px; margin: 0 auto; }
section { margin: 0 0 28px; }
h2 { font-size: 17px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.note, .note { color: var(--muted); font-size: 13px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 18px; font-weight: 600; margin-top: 2px; word-break: break-word; }
.card .s { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
table + .charts, .charts + table, .charts + h3 { margin-top: 12px; }
.ps-chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 6px 6px 2px; min-height: 120px; overflow: hidden; }
.ps-chart .u-title { font-size: 13px; font-weight: 600; text-align: left; padding-left: 8px; }
.ps-chart .u-legend { font-size: 12px; }
.ps-empty { color: var(--muted); padding: 40px 12px; text-align: center; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 6px; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.cmd { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; max-width: 520px; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; font-size: 10px; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; font-size: 10px; }
.finding { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--info); border-radius: 6px; padding: 10px 14px; margin: 0 0 10px; }
.finding.critical { border-left-color: var(--crit); }
.finding.warning { border-left-color: var(--warn); }
.finding h3 { margin: 0 0 4px; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 0; font-size: 13px; }
.finding dt { color: var(--muted); }
.finding dd { margin: 0; word-break: break-word; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; color: #fff; background: var(--info); vertical-align: 2px; }
.badge.critical, .badge.leak { background: var(--crit); }
.badge.warning, .badge.watch { background: var(--warn); }
.badge.none, .badge.ok { background: var(--ok); }
.suspect { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 0 0 12px; display: grid; grid-template-columns: minmax(260px, 1fr) 2fr; gap: 14px; }
.suspect .facts { font-size: 13px; }
.suspect .facts dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0; }
.suspect .facts dt { color: var(--muted); }
.suspect .facts dd { margin: 0; word-break: break-word; }
.suspect .cmdline { word-break: break-all; margin: 2px 0 4px; }
.suspect ul { margin: 4px 0 0 18px; padding: 0; color: var(--muted); }
.entity { margin-bottom: 18px; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll table { border: 0; }
.card .v { overflow-wrap: anywhere; max-height: 5.5em; overflow: hidden; }
.muted { color: var(--muted); }
.pill { display:inline-block; padding: 0 6px; border-radius: 4px; background:#e2e8f0; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
@media (max-width: 700px) { .charts { grid-template-columns: 1fr; } .suspect { grid-template-columns: 1fr; } main { padding: 10px; } }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { background: #fff; font-size: 11px; }
  header.top { background: #fff; color: #000; border-bottom: 2px solid #000; padding: 0 0 6px; }
  header.top .sub { color: #333; }
  nav.toc, .no-print { display: none !important; }
  .scroll { max-height: none; overflow: visible; border: 0; }
  main { padding: 0; max-width: none; }
  section { break-inside: auto; }
  h2 { break-after: avoid; }
  .charts { display: block; }
  .ps-chart, .finding, .suspect, .card, tr { break-inside: avoid; }
  .ps-chart { margin: 0 0 8px; border-color: #cbd5e1; }
  /* Whatever width the canvas was drawn at, it fits the paper (axes are drawn on the canvas). */
  .ps-chart .uplot, .ps-chart .u-wrap { width: 100% !important; height: auto !important; }
  .ps-chart .u-wrap canvas { position: static !important; width: 100% !important; height: auto !important; }
  .ps-chart .u-legend .u-value, .ps-chart .u-legend .u-series:first-child { display: none !important; }
  .ps-chart .u-over, .ps-chart .u-under, .ps-chart .u-cursor-x, .ps-chart .u-cursor-y, .ps-chart .u-select { display: none !important; }
  .suspect { grid-template-columns: 1fr; }
  table { font-size: 10px; }
  a { color: inherit; text-decoration: none; }
}
`;
