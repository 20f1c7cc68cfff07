package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// replayToHTML finds a failure and replays it with -html; it returns the
// page and its path.
func replayToHTML(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	trace, _ := findFailure(t, dir)
	page := filepath.Join(dir, "timeline.html")
	r := runCmd(t, "-replay", trace, "-html", page)
	if r.code != exitFailure {
		t.Fatalf("-replay -html: exit code got %d, want %d: %s", r.code, exitFailure, r.stderr)
	}
	if !strings.Contains(r.stdout, "timeline written to "+page) {
		t.Errorf("-replay -html: output does not name the page")
	}
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), page
}

var reData = regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`)

func TestTimelinePageSelfContained(t *testing.T) {
	page, _ := replayToHTML(t)
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must load nothing", bad)
		}
	}
	if strings.Contains(page, `class="lane"`) {
		t.Errorf("the static page already holds lanes; they must be drawn by the script")
	}
	m := reData.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no data script")
	}
	var d tlData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("page data: %v", err)
	}
	names := map[string]bool{}
	for _, l := range d.Lanes {
		names[l.Name] = true
	}
	for _, want := range []string{"main", "migrator", "app0"} {
		if !names[want] {
			t.Errorf("lanes %v lack machine %q", d.Lanes, want)
		}
	}
	classes := map[string]int{}
	hi := 0
	for _, e := range d.Events {
		classes[e.Cls]++
		if e.Hi {
			hi++
		}
		if e.Lane < 0 || e.Lane >= len(d.Lanes) {
			t.Fatalf("event %+v: lane out of range", e)
		}
	}
	for _, c := range []string{clsCall, clsReturn, clsBackend, clsPush, clsLP, clsCheck} {
		if classes[c] == 0 {
			t.Errorf("no event of class %q (classes %v)", c, classes)
		}
	}
	if hi == 0 || d.Kind == "" || d.Failure == "" {
		t.Errorf("failure not marked: %d highlighted events, kind %q, failure %q", hi, d.Kind, d.Failure)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		machine int
		text    string
		want    string
	}{
		{2, "call 3: Batch[Insert 'p0'/'1' {}]", clsCall},
		{2, "call 3 returned: ok [\"new:1\"]", clsReturn},
		{2, "old.ExecuteBatch[Insert 'p0'/'1' {}] -> ok", clsBackend},
		{2, "new.QueryAtomic(true) -> rows []", clsBackend},
		{2, "new.stream.Next -> end", clsBackend},
		{1, "push PREFER_NEW: start", clsPush},
		{1, "push PREFER_NEW: done (err=<nil>)", clsPush},
		{2, "linearization point of app0 call 3; reference: ok", clsLP},
		{2, "CHECK FAILED: migrator: boom", clsCheck},
		{0, `spawn machine 1 "migrator"`, clsSched},
		{3, "waits on Cond.Wait", clsSched},
		{-1, "run failed: deadlock", clsSched},
		{1, "migrator returned: <nil>", clsOther},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := classify(tt.machine, tt.text); got != tt.want {
				t.Errorf("classify(%d, %q) = %q, want %q", tt.machine, tt.text, got, tt.want)
			}
		})
	}
}

// chromium returns the headless browser to test with, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var (
	reRendered = regexp.MustCompile(`data-rendered="lanes=(\d+) events=(\d+)"`)
	reLane     = regexp.MustCompile(`<div class="lane" data-machine="([^"]*)"`)
	reEvent    = regexp.MustCompile(`<div class="ev [a-z]+( hi)?"`)
)

func TestTimelineRendersInChromium(t *testing.T) {
	browser := chromium()
	if browser == "" {
		t.Skip("chromium not found, so the timeline page is not rendered: install it (Debian: apt-get install -y chromium) to run this test")
	}
	page, path := replayToHTML(t)
	var d tlData
	if err := json.Unmarshal([]byte(reData.FindStringSubmatch(page)[1]), &d); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only stops a hung browser; it asserts nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v\n%s", browser, err, stderr.String())
	}
	dom := string(out)

	m := reRendered.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the script did not finish drawing (no data-rendered on body); DOM:\n%.2000s", dom)
	}
	if got, want := m[1]+"/"+m[2], fmt.Sprintf("%d/%d", len(d.Lanes), len(d.Events)); got != want {
		t.Errorf("rendered lanes/events: got %s, want %s", got, want)
	}
	var lanes []string
	for _, l := range reLane.FindAllStringSubmatch(dom, -1) {
		lanes = append(lanes, l[1])
	}
	var want []string
	for _, l := range d.Lanes {
		want = append(want, l.Name)
	}
	if strings.Join(lanes, ",") != strings.Join(want, ",") {
		t.Errorf("lanes in the DOM: got %v, want %v", lanes, want)
	}
	evs := reEvent.FindAllStringSubmatch(dom, -1)
	hi := 0
	for _, e := range evs {
		if e[1] != "" {
			hi++
		}
	}
	if len(evs) != len(d.Events) || hi == 0 {
		t.Errorf("events in the DOM: got %d (%d highlighted), want %d (some highlighted)", len(evs), hi, len(d.Events))
	}
	if !strings.Contains(dom, `<div class="failure">FAILURE (`+d.Kind+`)`) {
		t.Errorf("the DOM lacks the failure text on top")
	}
}
