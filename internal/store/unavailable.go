package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// ErrUnavailable says that the database could not be reached, or that it
// dropped the connection mid-way: it is restarting, shutting down, out of
// connections, or the network is cut. Nothing is wrong with the request;
// it may succeed if tried again shortly.
var ErrUnavailable = errors.New("store: the database is unavailable")

// Unavailable reports whether err says the database could not be reached
// (see ErrUnavailable). This is the one place that tells such errors from
// the others, so callers can answer "try again" rather than "failed".
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "57P01", // admin_shutdown: a fast shutdown ended the session
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"53300": // too_many_connections
			return true
		case "55000": // object_not_in_prerequisite_state: at connect, a database closed to new sessions
			return strings.Contains(pqErr.Message, "not currently accepting connections")
		}
		return pqErr.Code.Class() == "08" // connection_exception
	}
	var netErr net.Error
	return errors.Is(err, ErrUnavailable) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}
