package tracking

// Pixel is the open pixel: a 1×1 transparent GIF of 43 bytes. The server
// answers every /o/ request with it, a bad token included.
const Pixel = "GIF89a" + // signature and version
	"\x01\x00\x01\x00" + // 1×1 screen
	"\x80\x00\x00" + // a global colour table of two colours, background 0
	"\x00\x00\x00\xff\xff\xff" + // black and white
	"\x21\xf9\x04\x01\x00\x00\x00\x00" + // graphic control: colour 0 is transparent
	"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00" + // one 1×1 image at 0,0
	"\x02\x02\x44\x01\x00" + // its LZW data
	"\x3b" // trailer

// PixelType is the pixel's Content-Type.
const PixelType = "image/gif"
