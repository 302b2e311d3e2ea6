package handover

import "testing"

func TestNone_HasRoomForNothingAndNoLease(t *testing.T) {
	t.Parallel()
	var r Room = None{}
	if r.N() != 0 || !r.Until().IsZero() {
		t.Fatalf("None: N %d, Until %v", r.N(), r.Until())
	}
	r.Hand(nil) // ends it, as a Room must end
	r.Cancel()
}
