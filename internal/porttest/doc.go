// Package porttest owns the loopback addresses that tests hand to the
// processes they start: addresses free now that no outgoing connection
// will take before the process listens on them.
//
// An address from net.Listen("tcp", "127.0.0.1:0") is in the kernel's
// ephemeral range, which every outgoing connection draws from too: between
// the test closing its listener and the child binding the port, a
// connection to Postgres from a test binary running beside it can take the
// port, and the child fails with "address already in use". A port below
// that range is only ever taken by a listener that asks for it.
//
// porttest is for tests only: nothing outside _test.go files may import it.
package porttest
