// Package fix is the fixed variant of GoKer's kernel of moby#17176 (see
// the parent package for the bug), fixed as upstream did: release the
// devices lock before returning.
package fix

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
		devices.Unlock()
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
