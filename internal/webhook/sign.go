package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// secretPrefix starts a Standard Webhooks secret; the rest is base64.
const secretPrefix = "whsec_"

// errSecret means the configured secret is not a whsec_ key.
var errSecret = errors.New("the webhook secret is not whsec_ followed by base64")

// Key decodes a secret such as "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
// into the HMAC key: the base64 after the prefix.
func Key(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errSecret
	}
	return key, nil
}

// Sign is the webhook-signature header of a message: "v1," and the base64
// HMAC-SHA256 of "id.timestamp.body" under key.
func Sign(key []byte, id string, at time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// messageID is the webhook-id of a handoff's message: the same for every
// attempt and redelivery, so that a receiver can drop a repeat.
func messageID(handoff int64) string {
	return "nurture_handoff_" + strconv.FormatInt(handoff, 10)
}
