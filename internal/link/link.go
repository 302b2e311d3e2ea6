package link

import (
	"net/url"
	"strings"

	"github.com/nurture/nurture/internal/token"
)

// Purposes bind a signed token to one kind of link.
const (
	PurposeUnsubscribe = "unsubscribe"
	PurposeTracking    = "tracking" // the footer link that withdraws tracking consent
)

// Builder makes absolute links under the base URL.
type Builder struct {
	base   string
	signer *token.Signer
	mailto string
}

// New returns a Builder. mailto is the address for List-Unsubscribe mailto.
func New(base *url.URL, signer *token.Signer, mailto string) *Builder {
	return &Builder{base: strings.TrimSuffix(base.String(), "/"), signer: signer, mailto: mailto}
}

// URL joins a path to the base URL.
func (b *Builder) URL(path string) string { return b.base + path }

// Confirm is the link in the confirmation mail.
func (b *Builder) Confirm(tok string) string { return b.base + "/confirm/" + tok }

// UnsubscribeToken is the signed token in a lead's unsubscribe link.
func (b *Builder) UnsubscribeToken(leadID int64) string {
	return b.signer.Sign(PurposeUnsubscribe, leadID)
}

// Unsubscribe is the one-click unsubscribe link for a lead (RFC 8058).
func (b *Builder) Unsubscribe(leadID int64) string {
	return b.base + "/unsubscribe/" + b.UnsubscribeToken(leadID)
}

// UnsubscribeMailto is the mailto: alternative in List-Unsubscribe.
func (b *Builder) UnsubscribeMailto(leadID int64) string {
	if b.mailto == "" {
		return ""
	}
	return "mailto:" + b.mailto + "?subject=" + url.QueryEscape("unsubscribe "+b.UnsubscribeToken(leadID))
}

// VerifyUnsubscribe returns the lead id in an unsubscribe token.
func (b *Builder) VerifyUnsubscribe(tok string) (int64, error) {
	return b.signer.Verify(PurposeUnsubscribe, tok)
}

// Tracking is the link in a tracked mail's footer where the lead withdraws
// (or grants again) consent to open and click tracking.
func (b *Builder) Tracking(leadID int64) string {
	return b.base + "/tracking/" + b.signer.Sign(PurposeTracking, leadID)
}

// VerifyTracking returns the lead id in a tracking link's token.
func (b *Builder) VerifyTracking(tok string) (int64, error) {
	return b.signer.Verify(PurposeTracking, tok)
}
