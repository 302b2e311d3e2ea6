//go:build !unix

package pgtest

import (
	"context"
	"errors"
)

func startCluster(context.Context) (string, error) {
	return "", errors.New("pgtest starts a cluster on Unix only")
}

func processGone(int) bool { return false }
