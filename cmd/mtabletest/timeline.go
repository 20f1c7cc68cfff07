package main

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/harness"
)

// The event classes of the timeline, each with its own colour.
const (
	clsCall    = "call"    // an application's virtual-table call begins
	clsReturn  = "return"  // ... and returns
	clsBackend = "backend" // a call on a backend table (old, new, ...)
	clsPush    = "push"    // a configuration push starts or ends
	clsLP      = "lp"      // a linearization point
	clsCheck   = "check"   // a failed check
	clsSched   = "sched"   // the scheduler's own events (spawn, ...)
	clsOther   = "other"
)

var (
	reCall    = regexp.MustCompile(`^call (\d+): `)
	reReturn  = regexp.MustCompile(`^call (\d+) returned: `)
	reBackend = regexp.MustCompile(`^[A-Za-z0-9_]+\.(ExecuteBatch|QueryAtomic|QueryStreamed|stream\.Next)`)
	reLP      = regexp.MustCompile(`^linearization point of (\S+) call (\d+)`)
	reCallRef = regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9_-]*) call (\d+)\b`)
)

func classify(machine int, text string) string {
	switch {
	case strings.HasPrefix(text, "CHECK FAILED"):
		return clsCheck
	case reLP.MatchString(text):
		return clsLP
	case strings.HasPrefix(text, "push "):
		return clsPush
	case reReturn.MatchString(text):
		return clsReturn
	case reCall.MatchString(text):
		return clsCall
	case reBackend.MatchString(text):
		return clsBackend
	case machine < 0 || strings.HasPrefix(text, "spawn machine ") || strings.HasPrefix(text, "waits on "):
		return clsSched
	}
	return clsOther
}

type tlLane struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type tlEvent struct {
	Step int64  `json:"step"`
	Lane int    `json:"lane"` // index into tlData.Lanes
	Text string `json:"text"`
	Cls  string `json:"cls"`
	Hi   bool   `json:"hi,omitempty"` // part of the failure
}

type tlData struct {
	File     string      `json:"file"`
	Strategy string      `json:"strategy"`
	Seed     string      `json:"seed"` // a string: JavaScript numbers hold 53 bits
	Steps    int64       `json:"steps"`
	Kind     string      `json:"kind"`    // "" when the run passed
	Failure  string      `json:"failure"` // the failure text
	Params   [][2]string `json:"params"`
	Lanes    []tlLane    `json:"lanes"`
	Events   []tlEvent   `json:"events"`
}

// timelineData lays out it's event log: one lane per machine (the
// scheduler first, then machines by ID), and marks the events that make
// up the failure.
func timelineData(file string, it *harness.Iteration) tlData {
	tr := it.Sched.Trace
	d := tlData{File: file, Strategy: tr.Strategy, Seed: strconv.FormatUint(tr.Seed, 10), Steps: it.Sched.Steps}
	for _, p := range tr.Params {
		d.Params = append(d.Params, [2]string{p.Key, p.Value})
	}
	names := map[int]string{}
	for _, e := range it.Sched.Events {
		if _, ok := names[e.Machine]; !ok || names[e.Machine] == "" {
			names[e.Machine] = e.Name
		}
	}
	ids := make([]int, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	laneOf := map[int]int{}
	for i, id := range ids {
		name := names[id]
		if id < 0 {
			name = "scheduler"
		}
		laneOf[id] = i
		d.Lanes = append(d.Lanes, tlLane{ID: id, Name: name})
	}

	// What to highlight: the failed checks, the violating call (its
	// start, return and linearization point) and, for a scheduler
	// failure, the failing machine's events at the failing step.
	// The calls the failure names ("app1 call 1 Retrieve(...)" in the
	// check's call, "app0 call 3" in its text) are highlighted.
	hiCalls := map[string]bool{} // "app1 call 1"
	if f := it.Failure; f != nil {
		d.Kind, d.Failure = f.Kind, strings.TrimRight(f.Text, "\n")
		text := f.Text
		if cf := f.Check; cf != nil {
			text = cf.Call + "\n" + text
		}
		lanes := map[string]bool{}
		for _, l := range d.Lanes {
			lanes[l.Name] = true
		}
		for _, m := range reCallRef.FindAllStringSubmatch(text, -1) {
			if lanes[m[1]] {
				hiCalls[m[1]+" call "+m[2]] = true
			}
		}
	}
	for _, e := range it.Sched.Events {
		ev := tlEvent{Step: e.Step, Lane: laneOf[e.Machine], Text: e.Text, Cls: classify(e.Machine, e.Text)}
		switch ev.Cls {
		case clsCheck:
			ev.Hi = true
		case clsCall:
			ev.Hi = hiCalls[e.Name+" call "+reCall.FindStringSubmatch(e.Text)[1]]
		case clsReturn:
			ev.Hi = hiCalls[e.Name+" call "+reReturn.FindStringSubmatch(e.Text)[1]]
		case clsLP:
			m := reLP.FindStringSubmatch(e.Text)
			ev.Hi = hiCalls[m[1]+" call "+m[2]]
		}
		d.Events = append(d.Events, ev)
	}
	if sf := it.Failure; sf != nil && sf.Sched != nil {
		for i, e := range it.Sched.Events {
			if e.Step == sf.Sched.Step && (sf.Sched.Machine < 0 || e.Machine == sf.Sched.Machine) {
				d.Events[i].Hi = true
			}
		}
	}
	return d
}

// timelineHTML renders it as a self-contained page: inline CSS and
// script, the event data as JSON, no network access. The lanes are drawn
// by the script.
func timelineHTML(file string, it *harness.Iteration) ([]byte, error) {
	d := timelineData(file, it)
	data, err := json.Marshal(d) // escapes <, > and &, so no "</script>"
	if err != nil {
		return nil, fmt.Errorf("-html: %v", err)
	}
	title := "mtabletest timeline: " + file
	page := strings.NewReplacer(
		"{{TITLE}}", html.EscapeString(title),
		"{{DATA}}", string(data),
	).Replace(pageTemplate)
	return []byte(page), nil
}

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{{TITLE}}</title>
<style>
body { font: 13px/1.35 system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 12px 16px; border-bottom: 1px solid #ccc; background: #fafafa; }
h1 { font-size: 16px; margin: 0 0 6px; }
.failure { border-left: 4px solid #c00; background: #fff0f0; padding: 6px 10px; margin: 8px 0; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; max-height: 16em; overflow: auto; }
.passed { border-left: 4px solid #080; background: #f0fff0; padding: 6px 10px; margin: 8px 0; }
.meta { font-family: ui-monospace, monospace; font-size: 12px; color: #444; }
.controls label { margin-right: 12px; white-space: nowrap; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 3px; vertical-align: -1px; }
#timeline { display: grid; column-gap: 6px; padding: 0 16px 40px; }
.lane, .axis { display: grid; grid-template-rows: subgrid; grid-row: 1 / -1; }
.lane { background: #fcfcfc; border-left: 1px solid #eee; }
.lane-head { position: sticky; top: 0; z-index: 2; background: #eef; font-weight: 600; padding: 4px 6px; border-bottom: 1px solid #99c; }
.axis .lane-head { background: #eee; }
.stepno { font-family: ui-monospace, monospace; font-size: 11px; color: #888; text-align: right; padding: 2px 4px; border-top: 1px dotted #eee; }
.cell { border-top: 1px dotted #eee; padding: 1px 2px; min-width: 0; }
.ev { font-family: ui-monospace, monospace; font-size: 11px; padding: 1px 4px; margin: 1px 0; border-radius: 3px; border-left: 4px solid #bbb; background: #f6f6f6; overflow-wrap: anywhere; }
.ev.call { border-color: #2a6; background: #eefaf2; }
.ev.return { border-color: #2a6; background: #f6fbf8; color: #264; }
.ev.backend { border-color: #48c; background: #eef4fc; }
.ev.push { border-color: #a5c; background: #f7eefc; font-weight: 600; }
.ev.lp { border-color: #e90; background: #fff6e5; }
.ev.check { border-color: #c00; background: #fdd; font-weight: 600; }
.ev.sched { border-color: #999; color: #666; }
.ev.hi { outline: 2px solid #c00; box-shadow: 0 0 6px #f66; }
.hidden-call .ev.call, .hidden-return .ev.return, .hidden-backend .ev.backend, .hidden-push .ev.push,
.hidden-lp .ev.lp, .hidden-sched .ev.sched, .hidden-other .ev.other { display: none; }
</style>
</head>
<body>
<header>
<h1 id="title"></h1>
<div id="summary"></div>
<div class="meta" id="meta"></div>
<div class="controls" id="controls"></div>
</header>
<div id="timeline"></div>
<noscript>This page draws the timeline with JavaScript; enable it to see the lanes.</noscript>
<script id="data" type="application/json">{{DATA}}</script>
<script>
"use strict";
(function () {
  const d = JSON.parse(document.getElementById("data").textContent);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  document.getElementById("title").textContent = "mtabletest timeline: " + d.file;
  const sum = document.getElementById("summary");
  if (d.kind) {
    sum.appendChild(el("div", "failure", "FAILURE (" + d.kind + ")\n" + d.failure));
  } else {
    sum.appendChild(el("div", "passed", "The replayed run passed every check."));
  }
  const meta = ["strategy " + d.strategy, "seed " + d.seed, d.steps + " steps", d.events.length + " events"];
  for (const [k, v] of d.params || []) meta.push(k + "=" + v);
  document.getElementById("meta").textContent = meta.join("  ·  ");

  const classes = [["call", "call", "#2a6"], ["return", "return", "#2a6"], ["backend", "backend call", "#48c"],
    ["push", "configuration push", "#a5c"], ["lp", "linearization point", "#e90"], ["check", "failed check", "#c00"],
    ["sched", "scheduler", "#999"], ["other", "other", "#bbb"]];
  const tl = document.getElementById("timeline");
  const controls = document.getElementById("controls");
  for (const [cls, label, colour] of classes) {
    const lab = el("label");
    const box = el("input");
    box.type = "checkbox";
    box.checked = true;
    if (cls === "check") box.disabled = true;
    box.addEventListener("change", () => tl.classList.toggle("hidden-" + cls, !box.checked));
    const sw = el("span", "sw");
    sw.style.background = colour;
    lab.append(box, sw, label);
    controls.appendChild(lab);
  }
  const jump = el("a", "", "jump to the failure");
  jump.href = "#";
  jump.addEventListener("click", (ev) => {
    ev.preventDefault();
    const h = document.querySelector(".ev.hi");
    if (h) h.scrollIntoView({block: "center"});
  });
  if (d.kind) controls.appendChild(jump);

  // One grid row per step that has events, row 1 for the lane heads.
  const steps = [...new Set(d.events.map((e) => e.step))].sort((a, b) => a - b);
  const rowOf = new Map(steps.map((s, i) => [s, i + 2]));
  tl.style.gridTemplateColumns = "5em repeat(" + d.lanes.length + ", minmax(13em, 1fr))";
  tl.style.gridTemplateRows = "auto repeat(" + steps.length + ", auto)";

  const axis = el("div", "axis");
  axis.style.gridColumn = "1";
  axis.appendChild(el("div", "lane-head", "step"));
  for (const s of steps) {
    const n = el("div", "stepno", String(s));
    n.style.gridRow = String(rowOf.get(s));
    n.id = "step-" + s;
    axis.appendChild(n);
  }
  tl.appendChild(axis);

  const lanes = d.lanes.map((l, i) => {
    const lane = el("div", "lane");
    lane.dataset.machine = l.name;
    lane.dataset.id = String(l.id);
    lane.style.gridColumn = String(i + 2);
    const head = el("div", "lane-head", l.id < 0 ? l.name : l.name + " (" + l.id + ")");
    head.style.gridRow = "1";
    lane.appendChild(head);
    tl.appendChild(lane);
    return {lane, cells: new Map()};
  });
  for (const e of d.events) {
    const ln = lanes[e.lane];
    let cell = ln.cells.get(e.step);
    if (!cell) {
      cell = el("div", "cell");
      cell.style.gridRow = String(rowOf.get(e.step));
      ln.cells.set(e.step, cell);
      ln.lane.appendChild(cell);
    }
    const ev = el("div", "ev " + e.cls + (e.hi ? " hi" : ""), e.text);
    ev.title = "step " + e.step + " · " + d.lanes[e.lane].name + " · " + e.cls;
    cell.appendChild(ev);
  }
  // timeline.html#step-232 opens at step 232 (the rows exist only now).
  if (location.hash.startsWith("#step-")) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView({block: "center"});
  }
  document.body.dataset.rendered = "lanes=" + d.lanes.length + " events=" + d.events.length;
})();
</script>
</body>
</html>
`
