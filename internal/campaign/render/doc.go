// Package render owns how a mail is made from a campaign step: its
// Markdown turned once into an HTML and a plain-text template (with lead
// values always inserted as text, never as Markdown or HTML), its
// placeholders and links checked against a sample, the mail layouts and
// the signup forms' page layouts loaded and tried out, and a compiled Mail
// filled in for one lead, its links passed through click tracking.
//
// It is pure: it reads templates from the fs.FS it is given and reports
// problems through the Reporter the caller passes; it knows neither the
// campaign files' format nor the database. Package campaign calls it while
// loading a Set, and the sequence engine renders through campaign.Render.
package render
