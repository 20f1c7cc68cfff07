// Package time is a drop-in replacement for the standard library's
// package time whose clock, sleeps and timers are package sched's
// virtual ones: code ported to sched changes its import of "time" to
// "github.com/migratingtable/migratingtable/sched/time", and its
// receives from timer channels (see below).
//
// Controlled (virtual time under a run, the time package outside one;
// see sched's package documentation, "Virtual time"): Now, Since, Until,
// Sleep, After, AfterFunc, NewTimer, NewTicker and Tick, and the types
// Timer and Ticker, aliases of sched.Timer and sched.Ticker.
//
// Timer.C, Ticker.C and the results of After and Tick are *sched.Chan
// values, not Go channels (Go's channel syntax cannot be redefined):
// receive with C.Recv() where the original has <-t.C, and wait in a
// sched.Select with C.RecvCase where it has a select. Under a run a plain
// receive from a Go channel would block outside the scheduler's control.
//
// Everything else is the time package's own, re-exported unchanged (it
// reads no clock): the types Duration, Time, Month, Weekday, Location and
// ParseError, the duration, month, weekday and layout constants, UTC and
// Local, and Date, Unix, UnixMilli, UnixMicro, Parse, ParseInLocation,
// ParseDuration, FixedZone, LoadLocation and LoadLocationFromTZData.
// Local is the value of time.Local when the program started.
package time

import (
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// Controlled: virtual time under a run.

// Timer is sched.Timer: its C is a *sched.Chan.
type Timer = sched.Timer

// Ticker is sched.Ticker: its C is a *sched.Chan.
type Ticker = sched.Ticker

// Now is sched.Now: the calling machine's process clock under a run.
func Now() Time { return sched.Now() }

// Since is sched.Since: Now().Sub(t).
func Since(t Time) Duration { return sched.Since(t) }

// Until is sched.Until: t.Sub(Now()).
func Until(t Time) Duration { return sched.Until(t) }

// Sleep is sched.Sleep: under a run, a scheduling point and a wait on
// the virtual clock.
func Sleep(d Duration) { sched.Sleep(d) }

// After is sched.After: NewTimer(d).C.
func After(d Duration) *sched.Chan[Time] { return sched.After(d) }

// AfterFunc is sched.AfterFunc: under a run f runs in a new machine
// when the virtual clock reaches d from now.
func AfterFunc(d Duration, f func()) *Timer { return sched.AfterFunc(d, f) }

// NewTimer is sched.NewTimer.
func NewTimer(d Duration) *Timer { return sched.NewTimer(d) }

// NewTicker is sched.NewTicker; d must be positive.
func NewTicker(d Duration) *Ticker { return sched.NewTicker(d) }

// Tick is NewTicker(d).C, or nil (a channel that never delivers) for
// d <= 0, as time.Tick.
func Tick(d Duration) *sched.Chan[Time] {
	if d <= 0 {
		return nil
	}
	return sched.NewTicker(d).C
}

// Not controlled: the time package's own.

type (
	Duration   = time.Duration
	Time       = time.Time
	Month      = time.Month
	Weekday    = time.Weekday
	Location   = time.Location
	ParseError = time.ParseError
)

const (
	Nanosecond  = time.Nanosecond
	Microsecond = time.Microsecond
	Millisecond = time.Millisecond
	Second      = time.Second
	Minute      = time.Minute
	Hour        = time.Hour
)

const (
	January   = time.January
	February  = time.February
	March     = time.March
	April     = time.April
	May       = time.May
	June      = time.June
	July      = time.July
	August    = time.August
	September = time.September
	October   = time.October
	November  = time.November
	December  = time.December
)

const (
	Sunday    = time.Sunday
	Monday    = time.Monday
	Tuesday   = time.Tuesday
	Wednesday = time.Wednesday
	Thursday  = time.Thursday
	Friday    = time.Friday
	Saturday  = time.Saturday
)

const (
	Layout      = time.Layout
	ANSIC       = time.ANSIC
	UnixDate    = time.UnixDate
	RubyDate    = time.RubyDate
	RFC822      = time.RFC822
	RFC822Z     = time.RFC822Z
	RFC850      = time.RFC850
	RFC1123     = time.RFC1123
	RFC1123Z    = time.RFC1123Z
	RFC3339     = time.RFC3339
	RFC3339Nano = time.RFC3339Nano
	Kitchen     = time.Kitchen
	Stamp       = time.Stamp
	StampMilli  = time.StampMilli
	StampMicro  = time.StampMicro
	StampNano   = time.StampNano
	DateTime    = time.DateTime
	DateOnly    = time.DateOnly
	TimeOnly    = time.TimeOnly
)

var (
	// UTC is time.UTC.
	UTC = time.UTC
	// Local is time.Local as it was when the program started.
	Local = time.Local
)

// Date is time.Date.
func Date(year int, month Month, day, hour, min, sec, nsec int, loc *Location) Time {
	return time.Date(year, month, day, hour, min, sec, nsec, loc)
}

// Unix is time.Unix.
func Unix(sec, nsec int64) Time { return time.Unix(sec, nsec) }

// UnixMilli is time.UnixMilli.
func UnixMilli(msec int64) Time { return time.UnixMilli(msec) }

// UnixMicro is time.UnixMicro.
func UnixMicro(usec int64) Time { return time.UnixMicro(usec) }

// Parse is time.Parse.
func Parse(layout, value string) (Time, error) { return time.Parse(layout, value) }

// ParseInLocation is time.ParseInLocation.
func ParseInLocation(layout, value string, loc *Location) (Time, error) {
	return time.ParseInLocation(layout, value, loc)
}

// ParseDuration is time.ParseDuration.
func ParseDuration(s string) (Duration, error) { return time.ParseDuration(s) }

// FixedZone is time.FixedZone.
func FixedZone(name string, offset int) *Location { return time.FixedZone(name, offset) }

// LoadLocation is time.LoadLocation.
func LoadLocation(name string) (*Location, error) { return time.LoadLocation(name) }

// LoadLocationFromTZData is time.LoadLocationFromTZData.
func LoadLocationFromTZData(name string, data []byte) (*Location, error) {
	return time.LoadLocationFromTZData(name, data)
}
