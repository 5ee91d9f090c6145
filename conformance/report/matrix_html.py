"""The compatibility matrix as one self-contained HTML page: inline CSS and JS, no external assets, works offline.

Rows are features grouped by protocol, columns are providers; a cell is passed/judged, coloured, with MUST
failures marked. Clicking a cell opens that feature's cases; each case shows every provider's verdict and
evidence side by side.
"""

from __future__ import annotations

from html import escape
from typing import Any

from conformance.report.matrix import Cell, Matrix

BODY_SHOWN = 8 * 1024

CSS = """
:root{--green:#1a7f37;--green-bg:#dafbe1;--yellow:#9a6700;--yellow-bg:#fff8c5;--red:#cf222e;--red-bg:#ffebe9;--grey:#57606a;--grey-bg:#eaeef2}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:16px 24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}header p{margin:2px 0;color:#57606a}
table#matrix{border-collapse:collapse;margin:12px 0;min-width:50%}
#matrix th,#matrix td{border:1px solid #d0d7de;padding:5px 10px;text-align:center;white-space:nowrap}
#matrix th.feat{text-align:left;font-weight:500}#matrix thead th{background:#f6f8fa;vertical-align:bottom}
#matrix thead small{display:block;font-weight:400;color:#57606a}
#matrix tr.protocol th{background:#24292f;color:#fff;text-align:left;text-transform:uppercase;letter-spacing:.05em;font-size:12px}
#matrix tr.total td,#matrix tr.total th{font-weight:600;border-top:2px solid #57606a}
td.cell{cursor:pointer;font-variant-numeric:tabular-nums}td.cell:hover{outline:2px solid #0969da;outline-offset:-2px}
.green{background:var(--green-bg);color:var(--green)}.yellow{background:var(--yellow-bg);color:var(--yellow)}
.red{background:var(--red-bg);color:var(--red)}.grey{background:var(--grey-bg);color:var(--grey)}
.must{display:inline-block;margin-left:6px;padding:0 5px;border-radius:8px;background:var(--red);color:#fff;font-size:11px;font-weight:700}
.note{display:inline-block;margin-left:4px;font-size:11px}
details.feature{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:0 10px}
details.feature>summary{font-weight:600;padding:8px 0;cursor:pointer}
details.case{border-top:1px solid #eaeef2;padding:4px 0}details.case>summary{cursor:pointer;padding:3px 0}
details.case.hidden{display:none}
.badge{display:inline-block;padding:0 6px;margin-left:4px;border-radius:8px;font-size:12px}
.passed{background:var(--green-bg);color:var(--green)}.failed,.errored{background:var(--red-bg);color:var(--red)}
.flaky{background:var(--yellow-bg);color:var(--yellow)}.unsupported,.skipped,.absent{background:var(--grey-bg);color:var(--grey)}
.differs-mark{color:#8250df;font-weight:600;margin-left:6px;font-size:12px}
.sides{display:grid;gap:10px;margin:6px 0 10px}.side{border:1px solid #d0d7de;border-radius:6px;padding:6px 8px;min-width:0}
.side h4{margin:0 0 4px;font-size:13px}.side .msg{margin:2px 0 6px;word-break:break-word}
.side ul{margin:2px 0 6px 18px;padding:0}
pre{background:#f6f8fa;padding:6px;border-radius:4px;overflow:auto;max-height:320px;margin:2px 0 6px;font-size:12px;white-space:pre-wrap;word-break:break-all}
.ex-title{font-weight:600;font-size:12px;margin-top:4px;word-break:break-all}.ref{color:#57606a;font-size:12px}
.sel{outline:3px solid #0969da!important}
"""

JS = """
(function(){
  function openFeature(id, col, scroll){
    var d=document.getElementById(id); if(!d) return;
    d.open=true;
    document.querySelectorAll('.sel').forEach(function(e){e.classList.remove('sel')});
    if(col){d.querySelectorAll('details.case').forEach(function(c){
      var o=c.getAttribute('data-'+col); if(o && o!=='passed' && o!=='unsupported' && o!=='skipped'){c.open=true}});
      d.querySelectorAll('.side[data-col="'+col+'"]').forEach(function(s){s.classList.add('sel')});}
    else{d.querySelectorAll('details.case[data-notable="1"]').forEach(function(c){c.open=true})}
    if(scroll){d.scrollIntoView({block:'start'})}
  }
  document.querySelectorAll('td.cell').forEach(function(td){
    td.addEventListener('click',function(){openFeature(td.getAttribute('data-target'),td.getAttribute('data-col'),true)});
  });
  var only=document.getElementById('only-notable');
  only.addEventListener('change',function(){
    document.querySelectorAll('details.case').forEach(function(c){
      c.classList.toggle('hidden', only.checked && c.getAttribute('data-notable')!=='1')});
  });
  var hash=decodeURIComponent(location.hash.slice(1));
  if(hash.indexOf('open=')===0){hash.slice(5).split(',').forEach(function(id){openFeature(id,null,false)})}
  else if(hash){openFeature(hash,null,true)}
  var m=document.getElementById('matrix');
  document.getElementById('status').textContent=m.getAttribute('data-features')+' features x '+m.getAttribute('data-providers')+' providers; click a cell for its cases';
  document.body.setAttribute('data-ready','1');
})();
"""


def _cell(cell: Cell, target: str, column: str) -> str:
    marks = (
        f'<span class="must" title="MUST cases failed">MUST &#10007;{cell.must_broken}</span>'
        if cell.must_broken
        else ""
    )
    if cell.flaky:
        marks += f'<span class="note" title="flaky cases">flaky {cell.flaky}</span>'
    if cell.expected:
        marks += f'<span class="note" title="baselined expected failures">baselined {cell.expected}</span>'
    title = f"{cell.passed} passed of {cell.judged} judged; {cell.not_judged} unsupported or skipped"
    return (
        f'<td class="cell {cell.colour}" data-target="{target}" data-col="{column}" title="{escape(title)}">'
        f"{escape(cell.text)}{marks}</td>"
    )


def _body(text: str, truncated: bool) -> str:
    shown = text[:BODY_SHOWN]
    cut = truncated or len(text) > BODY_SHOWN
    return f"<pre>{escape(shown)}{' [... cut]' if cut else ''}</pre>"


def _evidence(record: dict[str, Any]) -> str:
    evidence = record.get("evidence") or {}
    parts = []
    failures = evidence.get("failures") or []
    if failures:
        parts.append(
            "<ul>"
            + "".join(
                f"<li>step {f['step']}: <code>{escape(f['expectation'])}</code> &rarr; {escape(f['message'])}</li>"
                for f in failures
            )
            + "</ul>"
        )
    for exchange in evidence.get("exchanges") or []:
        request = exchange["request"]
        parts.append(
            f'<div class="ex-title">step {exchange["step"]} request: {escape(request["method"])} {escape(request["url"])}</div>'
        )
        if request["body"]:
            parts.append(_body(request["body"], request["body_truncated"]))
        for retry in exchange.get("retries") or []:
            parts.append(
                f'<div class="ref">retried after HTTP {retry["status"]} (Retry-After {escape(str(retry["retry_after"]))},'
                f" waited {retry['waited_ms']:.0f} ms)</div>"
            )
        response = exchange["response"]
        if response is None:
            parts.append(f'<div class="ex-title">no response: {escape(exchange.get("error") or "")}</div>')
            continue
        timing = exchange["timings"]
        headers = "\n".join(f"{name}: {value}" for name, value in response["headers"])
        parts.append(
            f'<div class="ex-title">response: HTTP {response["status"]}, {response["body_bytes"]} bytes,'
            f" {timing['total_ms']:.0f} ms</div><pre>{escape(headers)}</pre>"
        )
        parts.append(_body(response["body"], response["body_truncated"]))
    return "".join(parts)


def _side(label: str, column: str, record: dict[str, Any] | None) -> str:
    if record is None:
        return f'<div class="side" data-col="{column}"><h4>{escape(label)}: <span class="badge absent">absent</span></h4></div>'
    baseline = record.get("baseline")
    note = ""
    if baseline:
        issue = (
            f' <a href="{escape(baseline["issue"])}">{escape(baseline["issue"])}</a>'
            if baseline.get("issue")
            else ""
        )
        note = f'<div class="ref">baseline: expected {escape(baseline["expected"])} ({escape(baseline["reason"])}), {baseline["status"]}{issue}</div>'
    rounds = f'<div class="ref">rounds: {", ".join(record["rounds"])}</div>' if record.get("rounds") else ""
    return (
        f'<div class="side" data-col="{column}"><h4>{escape(label)}: <span class="badge {record["outcome"]}">{record["outcome"]}</span></h4>'
        f'<p class="msg">{escape(record["message"])}</p>{note}{rounds}{_evidence(record)}</div>'
    )


def render_html(matrix: Matrix) -> str:
    """The whole page as a string."""
    columns = matrix.columns
    head = "".join(
        f'<th class="col" data-col="{c.key}">{escape(c.label)}<small>gate {escape(c.document["summary"]["gate"].upper())}'
        f" &middot; {escape(c.run['mode'])} &middot; {escape(c.run['model'])}</small>"
        f"<small>{escape(c.run.get('base_url') or 'embedded reference')}</small></th>"
        for c in columns
    )
    body = []
    for protocol in matrix.protocols():
        body.append(f'<tr class="protocol"><th colspan="{len(columns) + 1}">{escape(protocol)}</th></tr>')
        for row in (r for r in matrix.rows if r.protocol == protocol):
            cells = "".join(
                _cell(cell, row.anchor, c.key) for cell, c in zip(row.cells, columns, strict=True)
            )
            body.append(
                f'<tr class="feature"><th class="feat"><a href="#{row.anchor}">{escape(row.feature)}</a></th>{cells}</tr>'
            )
    totals = "".join(_cell(cell, "", c.key) for cell, c in zip(matrix.totals, columns, strict=True))
    body.append(f'<tr class="total"><th class="feat">all features</th>{totals}</tr>')
    details = []
    grid = f"grid-template-columns:repeat({len(columns)},minmax(0,1fr))"
    for row in matrix.rows:
        cases = []
        for case in row.cases:
            notable = case.differs or any(
                r and r["outcome"] not in ("passed", "unsupported", "skipped") for r in case.records
            )
            badges = "".join(
                f'<span class="badge {o}" title="{escape(c.label)}">{escape(o)}</span>'
                for o, c in zip(case.outcomes, columns, strict=True)
            )
            differs = '<span class="differs-mark">providers differ</span>' if case.differs else ""
            data = " ".join(f'data-{c.key}="{o}"' for o, c in zip(case.outcomes, columns, strict=True))
            sides = "".join(_side(c.label, c.key, r) for c, r in zip(columns, case.records, strict=True))
            cases.append(
                f'<details class="case" id="case-{escape(case.id)}" data-notable="{int(bool(notable))}" {data}>'
                f"<summary><code>{escape(case.id)}</code> [{case.level}] {escape(case.title)}{badges}{differs}</summary>"
                f'<div class="ref">reference: {escape(case.reference)}</div><div class="sides" style="{grid}">{sides}</div></details>'
            )
        details.append(
            f'<details class="feature" id="{row.anchor}"><summary>{escape(row.protocol)} / {escape(row.feature)}'
            f" ({len(row.cases)} cases)</summary>{''.join(cases)}</details>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Gateway conformance matrix</title><style>{CSS}</style></head><body>"
        "<header><h1>Gateway conformance: compatibility matrix</h1>"
        '<p id="status">(enable JavaScript to drill down by clicking a cell; the cases are listed below)</p>'
        "<p>Cells: passed / judged cases (unsupported and skipped are not judged). Green: all passed; yellow: only SHOULD, "
        "flaky or baselined failures; red: a MUST case failed or errored; grey: nothing judged.</p>"
        '<label><input type="checkbox" id="only-notable"> show only cases that broke or differ</label></header>'
        f'<table id="matrix" data-features="{len(matrix.rows)}" data-providers="{len(columns)}">'
        f'<thead><tr><th class="feat">feature</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f'<section id="details">{"".join(details)}</section>'
        f"<script>{JS}</script></body></html>\n"
    )
