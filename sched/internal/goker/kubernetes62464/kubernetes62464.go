// Package kubernetes62464 is GoKer's kernel of kubernetes#62464
// (goker/blocking/kubernetes/62464/kubernetes62464_test.go in
// timmyyuan/gobench; upstream
// https://github.com/kubernetes/kubernetes/pull/62464), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, a recursive read lock (RWR deadlock): the CPU manager state's
// GetCPUSetOrDefault read-locks the state and, holding it, calls
// GetCPUSet and GetDefaultCPUSet, which read-lock it again. When
// SetDefaultCPUSet's writer arrives between the two, it waits for the
// first read lock, and the second RLock waits behind the writer.
package kubernetes62464

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type State interface {
	GetCPUSetOrDefault()
	GetCPUSet() bool
	GetDefaultCPUSet()
	SetDefaultCPUSet()
}

type stateMemory struct {
	sync.RWMutex
}

func (s *stateMemory) GetCPUSetOrDefault() {
	s.RLock()
	defer s.RUnlock()
	if ok := s.GetCPUSet(); ok {
		return
	}
	s.GetDefaultCPUSet()
}

func (s *stateMemory) GetCPUSet() bool {
	s.RLock()
	defer s.RUnlock()

	if sched.Choose(10) > 5 {
		return true
	}
	return false
}

func (s *stateMemory) GetDefaultCPUSet() {
	s.RLock()
	defer s.RUnlock()
}

func (s *stateMemory) SetDefaultCPUSet() {
	s.Lock()
	defer s.Unlock()
}

type staticPolicy struct{}

func (p *staticPolicy) RemoveContainer(s State) {
	s.GetDefaultCPUSet()
	s.SetDefaultCPUSet()
}

type manager struct {
	state *stateMemory
}

func (m *manager) reconcileState() {
	m.state.GetCPUSetOrDefault()
}

func NewPolicyAndManager() (*staticPolicy, *manager) {
	s := &stateMemory{}
	m := &manager{s}
	p := &staticPolicy{}
	return p, m
}

// /
// / G1 									G2
// / m.reconcileState()
// / m.state.GetCPUSetOrDefault()
// / s.RLock()
// / s.GetCPUSet()
// / 									p.RemoveContainer()
// / 									s.GetDefaultCPUSet()
// / 									s.SetDefaultCPUSet()
// / 									s.Lock()
// / s.RLock()
// / ---------------------G1,G2 deadlock---------------------
// /
func Kubernetes62464() {
	p, m := NewPolicyAndManager()
	sched.Go(m.reconcileState)
	sched.Go(func() { p.RemoveContainer(m.state) })
}
