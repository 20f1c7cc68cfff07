// Package moby4951 is GoKer's kernel of moby#4951
// (goker/blocking/moby/4951/moby4951_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/4951), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, an AB-BA deadlock: DeleteDevice takes the global devices lock
// and then the device's lock, and while waiting for the device's removal
// it drops the global lock, sleeps and takes it again, still holding the
// device's lock. A second DeleteDevice of the same device that takes the
// global lock meanwhile blocks on the device's lock, and the first
// blocks on the global lock.
package moby4951

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
	"github.com/migratingtable/migratingtable/sched/time"
)

type DeviceSet struct {
	sync.Mutex
	infos            map[string]*DevInfo
	nrDeletedDevices int
}

func (devices *DeviceSet) DeleteDevice(hash string) {
	devices.Lock()
	defer devices.Unlock()

	info := devices.lookupDevice(hash)

	info.lock.Lock()
	defer info.lock.Unlock()

	devices.deleteDevice(info)
}

func (devices *DeviceSet) lookupDevice(hash string) *DevInfo {
	existing, ok := devices.infos[hash]
	if !ok {
		return nil
	}
	return existing
}

func (devices *DeviceSet) deleteDevice(info *DevInfo) {
	devices.removeDeviceAndWait(info.Name())
}

func (devices *DeviceSet) removeDeviceAndWait(devname string) {
	/// remove devices by devname
	devices.Unlock()
	time.Sleep(300 * time.Nanosecond)
	devices.Lock()
}

type DevInfo struct {
	lock sync.Mutex
	name string
}

func (info *DevInfo) Name() string {
	return info.name
}

func NewDeviceSet() *DeviceSet {
	devices := &DeviceSet{
		infos: make(map[string]*DevInfo),
	}
	info1 := &DevInfo{
		name: "info1",
	}
	info2 := &DevInfo{
		name: "info2",
	}
	devices.infos[info1.name] = info1
	devices.infos[info2.name] = info2
	return devices
}

func Moby4951() {

	ds := NewDeviceSet()
	/// Delete devices by the same info
	sched.Go(func() { ds.DeleteDevice("info1") })
	sched.Go(func() { ds.DeleteDevice("info1") })
}
