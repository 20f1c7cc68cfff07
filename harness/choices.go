package harness

import "github.com/migratingtable/migratingtable/sched"

// choiceKind says what a workload choice decides. The shrinker uses the
// log of choices to edit a run's decisions along with its workload: to
// drop a call, drop the choices made for it.
type choiceKind uint8

const (
	chDraw      choiceKind = iota // the swarm's draw of the iteration's shape
	chDelay                       // how many calls the migrator waits for
	chState                       // the state an application waits for before a call
	chPartition                   // a call's partition
	chCallKind                    // a call's kind
	chBatchSize                   // a batch's size
	chRow                         // a batch operation's row
	chOpKind                      // a batch operation's kind
	chHappy                       // a write operation's property values
	chETag                        // a batch operation's If-Match
	chFilter                      // a query's filter
	chKey                         // a retrieve's row
	chLatency                     // the extra steps of a backend call
	chFault                       // a backend fault's request, kind and delay
	chPlain                       // an application's plain-client role (Workload.Plain)
	chHot                         // the hot row key, and whether a call touches it (Workload.HotRows)
)

// choiceRec is one choice that was a scheduler decision.
type choiceRec struct {
	at   int // index of the decision in the run's trace
	kind choiceKind
	app  int // application machine, -1 for the migrator or main
	call int // the application's call, -1 outside a call
	op   int // the batch operation, -1 outside one
}

// streamNames name the scheduler's choice stream of each kind (see
// sched.ChooseIn): a lenient run keeps them apart, so a call that makes
// more backend calls than recorded (a retry) takes more latency
// choices, and its other choices, and those of later calls, stay as
// recorded.
var streamNames = [...]string{
	chDraw: "draw", chDelay: "delay", chState: "state", chPartition: "partition", chCallKind: "call",
	chBatchSize: "batch", chRow: "row", chOpKind: "op", chHappy: "happy", chETag: "etag",
	chFilter: "filter", chKey: "key", chLatency: "latency", chFault: "fault", chPlain: "plain", chHot: "hot",
}

// choose is sched.ChooseIn(n) from the stream of kind k, logged as a
// choice of kind k for application app's call and operation op (-1 when
// not in one).
func (w *world) choose(n int, k choiceKind, app, call, op int) int {
	v := sched.ChooseIn(streamNames[k], n)
	if n > 1 && w.opts.track {
		w.choices = append(w.choices, choiceRec{at: int(sched.Step()) - 1, kind: k, app: app, call: call, op: op})
	}
	return v
}

// chooseBool is choose(2, ...) == 1.
func (w *world) chooseBool(k choiceKind, app, call, op int) bool {
	return w.choose(2, k, app, call, op) == 1
}
