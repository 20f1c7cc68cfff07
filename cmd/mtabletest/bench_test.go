package main

import (
	"context"
	"io"
	"strconv"
	"testing"
)

// BenchmarkCommand measures the command end to end on the correct
// library (banner, exploration, summary), one worker: ns/op is one run of
// 100 iterations; it/s is reported.
func BenchmarkCommand(b *testing.B) {
	const n = 100
	dir := b.TempDir()
	for b.Loop() {
		if code := run(context.Background(), []string{"-iterations", strconv.Itoa(n), "-parallel", "1", "-out", dir}, io.Discard, io.Discard); code != exitPass {
			b.Fatalf("exit code got %d, want 0", code)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "it/s")
}

// BenchmarkTimeline measures rendering a failing run's timeline page.
func BenchmarkTimeline(b *testing.B) {
	data := mustRead(b, seedDir+"/bug-7-EnsurePartitionSwitchedFromPopulated.trace")
	_, it, err := replayFile(data)
	if err != nil || it.Failure == nil {
		b.Fatalf("replaying the bug 7 seed: err %v, failure %v", err, it != nil && it.Failure != nil)
	}
	for b.Loop() {
		if _, err := timelineHTML("bug-7.trace", it); err != nil {
			b.Fatal(err)
		}
	}
}
