// Package fix is the fixed variant of GoKer's kernel of moby#4951 (see
// the parent package for the bug), fixed as upstream did: the devices
// map gets a lock of its own, so that a device can be looked up without
// the global lock, and device locks are always taken before the global
// lock.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
	"github.com/migratingtable/migratingtable/sched/time"
)

type DeviceSet struct {
	sync.Mutex
	devicesLock      sync.Mutex
	infos            map[string]*DevInfo
	nrDeletedDevices int
}

func (devices *DeviceSet) DeleteDevice(hash string) {
	info := devices.lookupDevice(hash)

	info.lock.Lock()
	defer info.lock.Unlock()

	devices.Lock()
	defer devices.Unlock()

	devices.deleteDevice(info)
}

func (devices *DeviceSet) lookupDevice(hash string) *DevInfo {
	devices.devicesLock.Lock()
	defer devices.devicesLock.Unlock()
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
