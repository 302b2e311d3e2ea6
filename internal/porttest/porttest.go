package porttest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreeAddr's ports are 12000–19999: above the well-known and the common
// service ports, below the kernel's ephemeral range (32768 and up on
// Linux), and below the ports scripts/pg picks for a cluster at random
// (20000–31999). The ranges were one: a test that took three ports for a
// `make run` and closed them saw the run's cluster pick one of them, and
// the mail catcher then failed to bind it.
const lowest, highest = 12000, 19999

// FreeAddr returns host:port on 127.0.0.1 that nothing listens on, with
// the port below the kernel's ephemeral range and outside scripts/pg's.
func FreeAddr(t testing.TB) string {
	t.Helper()
	top := min(highest, ephemeralLow()-1)
	if top <= lowest {
		top = lowest + 5000
	}
	for range 200 {
		port := lowest + rand.IntN(top-lowest+1)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken: try another
		}
		ln.Close()
		return addr
	}
	t.Fatalf("porttest: no free port between %d and %d", lowest, top)
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range, or
// Linux's default where the range cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &lo, &hi); err != nil || lo <= 0 {
		return 32768
	}
	return lo
}
