package campaign

import (
	"time"

	"github.com/nurture/nurture/internal/lead"
)

// SampleLead returns a made-up but realistic lead that Load renders every
// step for, and previews use unless told a real one. Each call returns a
// fresh copy.
func SampleLead() *lead.Lead {
	signup := time.Date(2026, time.March, 2, 9, 30, 0, 0, time.UTC)
	return &lead.Lead{
		Email:       "jana.schneider@nordlicht-logistik.example",
		FirstName:   "Jana",
		LastName:    "Schneider",
		Status:      lead.StatusConfirmed,
		Stage:       lead.StageLead,
		Source:      "ebook-datensicherheit",
		Score:       35,
		Fit:         15,
		Engagement:  20,
		Temperature: "warm",
		Attributes: lead.Attributes{
			"company":      "Nordlicht Logistik GmbH",
			"company_size": float64(250), // numbers arrive from JSON as float64
			"job_title":    "Head of IT",
			"industry":     "Logistics",
			"country":      "DE",
			"city":         "Hamburg",
			"timezone":     "Europe/Berlin",
		},
		CreatedAt:   signup,
		UpdatedAt:   signup,
		ConfirmedAt: &signup,
	}
}

// What previews show where the server's settings are missing.
const (
	SampleFrom           = "Nordwind Software <news@nurture.example>"
	SampleBaseURL        = "https://nurture.example"
	SampleUnsubscribeURL = SampleBaseURL + "/unsubscribe/SAMPLE-TOKEN"
	SampleFooter         = "Nordwind Software GmbH · Speicherstadt 1 · 20457 Hamburg · Germany"
	SamplePrivacyURL     = SampleBaseURL + "/privacy"
)

// SampleData is what Load renders every step with: the sample lead and
// example addresses.
func SampleData() Data {
	return Data{
		Lead:           SampleLead(),
		BaseURL:        SampleBaseURL,
		UnsubscribeURL: SampleUnsubscribeURL,
		Footer:         SampleFooter,
		PrivacyURL:     SamplePrivacyURL,
		TrackingURL:    SampleBaseURL + "/tracking/sample",
	}
}
