package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/nurture/nurture/internal/store"
)

// delivery is the job of posting one handoff's webhook.
type delivery struct {
	Handoff int64 `json:"handoff"`
}

func (delivery) Kind() string { return "handoff_webhook" }

type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// worker works deliveries; River calls it.
type worker struct {
	river.WorkerDefaults[delivery]
	s *Service
}

// Timeout bounds one attempt's job: twice the request's own timeout, for
// the recording around it.
func (w *worker) Timeout(*river.Job[delivery]) time.Duration { return 2 * w.s.cfg.Timeout }

// NextRetry is when a failed delivery is tried again (see Retry).
func (w *worker) NextRetry(job *river.Job[delivery]) time.Time {
	return w.s.cfg.Now().Add(w.s.cfg.Retry.Delay(len(job.Errors)+1, w.s.cfg.Rand))
}

// Work makes one attempt and records it. Its result tells River what
// follows: nil for a 2xx, a snooze for a Retry-After, a cancel for a 410
// or when retries are over, an error to retry. A receiver that answered
// 410 to any handoff is not posted to at all (skipGone).
func (w *worker) Work(ctx context.Context, job *river.Job[delivery]) error {
	s := w.s
	sub, err := s.st.WebhookSubject(ctx, job.Args.Handoff)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("handoff %d is gone (its lead was erased)", job.Args.Handoff))
	}
	if err != nil {
		return err
	}
	if sub.Webhook == store.WebhookGone || sub.Webhook == store.WebhookDelivered {
		return river.JobCancel(fmt.Errorf("handoff %d: webhook %s already", sub.ID, sub.Webhook))
	}
	if wh := s.webhook(); wh != nil {
		g, err := s.st.EndpointGone(ctx, wh.URL)
		if err == nil {
			return s.skipGone(ctx, sub, g)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	start := s.cfg.Now()
	a, res := s.attempt(ctx, sub)
	a.HandoffID, a.At = sub.ID, start
	a.DurationMS = int(s.cfg.Now().Sub(start).Milliseconds())
	state, next := s.outcome(ctx, job, a, res)
	if state == store.WebhookGone {
		marked, err := s.st.RecordGone(ctx, a)
		if err != nil {
			return err
		}
		if marked {
			s.cfg.Log.Warn("webhook: the receiver answered 410 Gone; no handoff is posted to it until one is redelivered or scoring.yaml names another url",
				"url", a.URL, "handoff", sub.ID)
		}
		return next
	}
	if err := s.st.RecordAttempt(ctx, a, state); err != nil {
		return err
	}
	s.cfg.Log.Info("webhook: attempt", "handoff", sub.ID, "status", a.Status, "error", a.Error, "state", state)
	return next
}

// skipGone records that handoff sub is not posted, since its receiver
// answered 410 Gone before (g), and ends its job. The 410 itself was
// logged as a warning; each handoff skipped is logged at debug level only.
func (s *Service) skipGone(ctx context.Context, sub *store.WebhookSubject, g *store.GoneEndpoint) error {
	why := fmt.Sprintf("not attempted: %s answered 410 Gone at %s (handoff %d); redeliver a handoff to post to it again",
		g.URL, g.At.UTC().Format(time.RFC3339), g.Handoff)
	a := store.WebhookAttempt{HandoffID: sub.ID, At: s.cfg.Now(), URL: g.URL, Error: why}
	if err := s.st.RecordAttempt(ctx, a, store.WebhookGone); err != nil {
		return err
	}
	s.cfg.Log.Debug("webhook: not attempted, the receiver is gone", "handoff", sub.ID, "url", g.URL)
	return river.JobCancel(errors.New(why))
}

// outcome is the handoff's webhook state after attempt a, and what River
// is to do with the job.
func (s *Service) outcome(ctx context.Context, job *river.Job[delivery], a store.WebhookAttempt, res *http.Response) (string, error) {
	switch {
	case a.Status >= 200 && a.Status < 300:
		return store.WebhookDelivered, nil
	case a.Status == http.StatusGone:
		return store.WebhookGone, river.JobCancel(errors.New("the receiver answered 410 Gone"))
	}
	failure := errors.New(failureText(a))
	first, err := s.st.FirstAttempt(ctx, a.HandoffID, job.CreatedAt)
	if err != nil || first.IsZero() || a.At.Before(first) {
		first = a.At
	}
	if s.cfg.Retry.GiveUp(first, a.At) || job.Attempt >= job.MaxAttempts {
		return store.WebhookFailed, river.JobCancel(fmt.Errorf("retries are over: %w", failure))
	}
	if res != nil {
		if d, ok := retryAfter(res, s.cfg.Now()); ok {
			return store.WebhookPending, river.JobSnooze(d)
		}
	}
	return store.WebhookPending, failure
}

// failureText is an attempt's failure in words.
func failureText(a store.WebhookAttempt) string {
	if a.Status == 0 {
		return a.Error
	}
	return strings.TrimSpace("HTTP " + strconv.Itoa(a.Status) + " " + a.Error)
}

// attempt posts the handoff once. The response, when one came, has its
// body read and closed already.
func (s *Service) attempt(ctx context.Context, sub *store.WebhookSubject) (store.WebhookAttempt, *http.Response) {
	wh := s.webhook()
	if wh == nil {
		return store.WebhookAttempt{Error: ErrNoWebhook.Error()}, nil
	}
	a := store.WebhookAttempt{URL: wh.URL}
	secret, err := wh.Secret(s.cfg.Getenv)
	var key []byte
	if err == nil {
		key, err = Key(secret)
	}
	if err != nil {
		a.Error = err.Error()
		return a, nil
	}
	p, err := s.payload(ctx, sub)
	if err != nil {
		a.Error = "build the payload: " + err.Error()
		return a, nil
	}
	body, _ := json.Marshal(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(body))
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		a.Error = "the webhook url is not an http(s) URL"
		return a, nil
	}
	id, at := messageID(sub.ID), s.cfg.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Nurture-Webhook/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", Sign(key, id, at, body))
	res, err := s.http.Do(req)
	if err != nil {
		a.Error = err.Error()
		if errors.Is(err, errPrivate) {
			a.Error = errPrivate.Error()
		}
		return a, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	a.Status = res.StatusCode
	if a.Status < 200 || a.Status >= 300 {
		a.Error = clean(snippet)
	}
	return a, res
}

// clean is up to 200 characters of a receiver's answer, on one line.
func clean(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	for len(s) > 200 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}
