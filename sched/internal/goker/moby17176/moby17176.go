// Package moby17176 is GoKer's kernel of moby#17176
// (goker/blocking/moby/17176/moby17176_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/17176), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, double locking: cleanupDeletedDevices takes the devices lock
// and returns without releasing it when there are no deleted devices.
// The test's goroutine then blocks on the lock forever (the test itself
// gives up after a timeout).
package moby17176

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
	"github.com/migratingtable/migratingtable/sched/time"
)

type DeviceSet struct {
	sync.Mutex
	nrDeletedDevices int
}

func (devices *DeviceSet) cleanupDeletedDevices() error {
	devices.Lock()
	if devices.nrDeletedDevices == 0 {
		/// Missing devices.Unlock()
		return nil
	}
	devices.Unlock()
	return errors.New("Error")
}

func testDevmapperLockReleasedDeviceDeletion() {
	ds := &DeviceSet{
		nrDeletedDevices: 0,
	}
	ds.cleanupDeletedDevices()
	doneChan := sched.NewChan[bool](0)
	sched.Go(func() {
		ds.Lock()
		defer ds.Unlock()
		doneChan.Send(true)
	})

	sched.Select(
		time.After(time.Millisecond).RecvCase(nil),
		doneChan.RecvCase(nil),
	)
}
func Moby17176() {
	testDevmapperLockReleasedDeviceDeletion()
}
