package time_test

import (
	"testing"
	stdtime "time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/time"
)

// The controlled types are sched's; the rest is the time package's.
var (
	_ *sched.Timer        = time.NewTimer(0)
	_ *sched.Ticker       = (*time.Ticker)(nil)
	_ stdtime.Duration    = time.Second
	_ stdtime.Time        = time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)
	_ stdtime.Month       = time.December
	_ stdtime.Weekday     = time.Sunday
	_ *stdtime.Location   = time.Local
	_ *stdtime.ParseError = (*time.ParseError)(nil)
)

// TestVirtual: under a run the functions read and move the virtual
// clock: Now starts at sched.DefaultStart; Sleep, After, NewTimer,
// AfterFunc, NewTicker and Tick fire when the scheduler moves the clock,
// with no wall-clock wait; Tick of a non-positive duration is nil.
func TestVirtual(t *testing.T) {
	res, err := sched.Run(sched.Config{}, func() {
		start := time.Now()
		sched.Assertf(start.Equal(sched.DefaultStart), "Now: %v, want %v", start, sched.DefaultStart)
		time.Sleep(time.Hour)
		sched.Assertf(time.Since(start) == time.Hour, "Since after Sleep(1h): %v", time.Since(start))
		at := time.After(time.Minute).Recv()
		sched.Assertf(at.Sub(start) == time.Hour+time.Minute, "After(1m) delivered +%v", at.Sub(start))
		tm := time.NewTimer(time.Second)
		sched.Assertf(tm.Stop(), "Stop of a pending timer: false")
		fired := sched.NewFuture[time.Time]()
		time.AfterFunc(2*time.Second, func() { fired.Resolve(time.Now()) })
		sched.Assertf(fired.Wait().Sub(start) == time.Hour+time.Minute+2*time.Second, "AfterFunc ran at +%v", fired.Wait().Sub(start))
		tk := time.NewTicker(10 * time.Second)
		tk.C.Recv()
		tk.Stop()
		tick := time.Tick(time.Second)
		tick.Recv()
		sched.Assertf(time.Tick(0) == nil && time.Tick(-1) == nil, "Tick of a non-positive duration is not nil")
		sched.Assertf(time.Until(start.Add(2*time.Hour)) == 2*time.Hour-time.Hour-time.Minute-2*time.Second-11*time.Second,
			"Until: %v", time.Until(start.Add(2*time.Hour)))
	})
	if err != nil || res.Failure != nil {
		t.Fatalf("%v %v", err, res.Failure)
	}
}

// TestPlain: outside a run they are the time package's.
func TestPlain(t *testing.T) {
	before := stdtime.Now()
	time.Sleep(stdtime.Millisecond)
	if d := time.Since(before); d < stdtime.Millisecond {
		t.Errorf("Sleep(1ms) then Since: %v", d)
	}
	time.After(stdtime.Millisecond).Recv()
	time.NewTimer(stdtime.Millisecond).C.Recv()
	if d, err := time.ParseDuration("1h2m"); err != nil || d != time.Hour+2*time.Minute {
		t.Errorf("ParseDuration: %v %v", d, err)
	}
	if got := time.Unix(0, 0).UTC().Format(time.RFC3339); got != "1970-01-01T00:00:00Z" {
		t.Errorf("Unix(0, 0): %s", got)
	}
}
