// Package cockroach6181 is GoKer's kernel of cockroach#6181
// (goker/blocking/cockroach/6181/cockroach6181_test.go in
// timmyyuan/gobench; upstream
// https://github.com/cockroachdb/cockroach/pull/6181), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a recursive read lock (RWR deadlock): LookupRangeDescriptor
// read-locks the range cache and, holding it, formats the cache with %s,
// whose String method read-locks it again. Another lookup that has
// released its read lock and asks for the write lock in between makes
// that second RLock wait behind it, while the writer waits for the first
// read lock.
//
// The original prints the cache to stdout; the port prints to
// io.Discard, keeping the String call.
package cockroach6181

import (
	"fmt"
	"io"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type testDescriptorDB struct {
	cache *rangeDescriptorCache
}

func initTestDescriptorDB() *testDescriptorDB {
	return &testDescriptorDB{&rangeDescriptorCache{}}
}

type rangeDescriptorCache struct {
	rangeCacheMu sync.RWMutex
}

func (rdc *rangeDescriptorCache) LookupRangeDescriptor() {
	rdc.rangeCacheMu.RLock()
	fmt.Fprintf(io.Discard, "lookup range descriptor: %s", rdc)
	rdc.rangeCacheMu.RUnlock()
	rdc.rangeCacheMu.Lock()
	rdc.rangeCacheMu.Unlock()
}

func (rdc *rangeDescriptorCache) String() string {
	rdc.rangeCacheMu.RLock()
	defer rdc.rangeCacheMu.RUnlock()
	return rdc.stringLocked()
}

func (rdc *rangeDescriptorCache) stringLocked() string {
	return "something here"
}

func doLookupWithToken(rc *rangeDescriptorCache) {
	rc.LookupRangeDescriptor()
}

func testRangeCacheCoalescedRquests() {
	db := initTestDescriptorDB()
	pauseLookupResumeAndAssert := func() {
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			sched.Go(func() { // G2,G3,...
				doLookupWithToken(db.cache)
				wg.Done()
			})
		}
		wg.Wait()
	}
	pauseLookupResumeAndAssert()
}

/// G1 									G2							G3					...
/// testRangeCacheCoalescedRquests()
/// initTestDescriptorDB()
/// pauseLookupResumeAndAssert()
/// return
/// 									doLookupWithToken()
///																 	doLookupWithToken()
///										rc.LookupRangeDescriptor()
///																	rc.LookupRangeDescriptor()
///										rdc.rangeCacheMu.RLock()
///										rdc.String()
///																	rdc.rangeCacheMu.RLock()
///																	fmt.Printf()
///																	rdc.rangeCacheMu.RUnlock()
///																	rdc.rangeCacheMu.Lock()
///										rdc.rangeCacheMu.RLock()
/// -------------------------------------G2,G3,... deadlock--------------------------------------

func Cockroach6181() {
	sched.Go(testRangeCacheCoalescedRquests) // G1
}
