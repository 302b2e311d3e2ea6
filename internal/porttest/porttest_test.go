package porttest

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddr_IsBelowTheEphemeralRangeAndFree(t *testing.T) {
	t.Parallel()
	low := ephemeralLow()
	for range 20 {
		addr := FreeAddr(t)
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		if host != "127.0.0.1" || port < lowest || port >= low {
			t.Fatalf("FreeAddr = %s, want 127.0.0.1 and a port in [%d, %d)", addr, lowest, low)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s: %v", addr, err)
		}
		ln.Close()
	}
}

func TestFreeAddr_SkipsAPortInUse(t *testing.T) {
	t.Parallel()
	// Hold most of a narrow window, so the pick must skip what is taken.
	held := map[string]bool{}
	for range 50 {
		addr := FreeAddr(t)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		held[addr] = true
	}
	for range 50 {
		if addr := FreeAddr(t); held[addr] {
			t.Fatalf("FreeAddr returned %s, which a listener holds", addr)
		}
	}
}
