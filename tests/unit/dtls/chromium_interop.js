// Driver of test_dtls_chromium: headless Chromium (playwright-core, executablePath
// /usr/bin/chromium) makes an RTCPeerConnection offer with an oscillator audio track, answers it
// with the ICE-lite/DTLS parameters the C side wrote to <dir>/params.json (a=setup:passive:
// Chromium is the DTLS client; a=setup:active: Chromium is the DTLS server), and reports its view
// of the transport as one line "RESULT {json}" on stdout. Usage: node chromium_interop.js <dir>
const fs = require('fs');
const path = require('path');
const {chromium} = require('playwright-core');

const dir = process.argv[2];

(async () => {
	const paramsFile = path.join(dir, 'params.json');
	while (!fs.existsSync(paramsFile))
		await new Promise(r => setTimeout(r, 50));
	const p = JSON.parse(fs.readFileSync(paramsFile, 'utf8'));
	const browser = await chromium.launch({
		executablePath : '/usr/bin/chromium',
		args : [
			'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync',
			'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
			'--allow-loopback-in-peer-connection'
		],
	});
	try {
		const page = await browser.newPage();
		await page.goto('about:blank');
		const offer = await page.evaluate(async () => {
			// about:blank is no secure context (no getUserMedia): an oscillator is the
			// microphone
			const ac = new AudioContext();
			const osc = ac.createOscillator();
			const dst = ac.createMediaStreamDestination();
			osc.connect(dst);
			osc.start();
			const pc = new RTCPeerConnection(
			    {bundlePolicy : 'max-bundle', rtcpMuxPolicy : 'require'});
			window.pc = pc;
			dst.stream.getTracks().forEach(t => pc.addTrack(t, dst.stream));
			await pc.setLocalDescription(await pc.createOffer());
			return pc.localDescription.sdp;
		});
		fs.writeFileSync(path.join(dir, 'offer.sdp.tmp'), offer);
		fs.renameSync(path.join(dir, 'offer.sdp.tmp'), path.join(dir, 'offer.sdp'));
		const mid = (offer.match(/a=mid:(\S+)/) || [])[1] || '0';
		const answer = [
			'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-lite',
			`a=group:BUNDLE ${mid}`, `m=audio ${p.port} UDP/TLS/RTP/SAVPF 111`,
			'c=IN IP4 127.0.0.1', `a=mid:${mid}`, 'a=recvonly', 'a=rtcp-mux',
			`a=ice-ufrag:${p.ufrag}`, `a=ice-pwd:${p.pwd}`,
			`a=fingerprint:${p.fingerprint}`, `a=setup:${p.setup}`,
			'a=rtpmap:111 opus/48000/2',
			`a=candidate:1 1 udp 2130706431 127.0.0.1 ${p.port} typ host`,
			'a=end-of-candidates', ''
		].join('\r\n');
		await page.evaluate(
		    async sdp => { await window.pc.setRemoteDescription({type : 'answer', sdp}); },
		    answer);
		// connected, then a few seconds of audio
		let connectedAt = -1;
		for (let i = 0; i < 80; i++) {
			const st = await page.evaluate(() => window.pc.connectionState);
			if (st === 'connected' && connectedAt < 0)
				connectedAt = i;
			if (st === 'failed' || (connectedAt >= 0 && i - connectedAt >= 12))
				break;
			await new Promise(r => setTimeout(r, 250));
		}
		const result = await page.evaluate(async () => {
			const r = {connectionState : window.pc.connectionState};
			(await window.pc.getStats()).forEach(s => {
				if (s.type === 'transport') {
					r.dtlsState = s.dtlsState;
					r.tlsVersion = s.tlsVersion;
					r.srtpCipher = s.srtpCipher;
					r.dtlsCipher = s.dtlsCipher;
					r.dtlsRole = s.dtlsRole;
				}
				if (s.type === 'outbound-rtp')
					r.packetsSent = s.packetsSent;
			});
			return r;
		});
		result.userAgent = await page.evaluate(() => navigator.userAgent);
		console.log('RESULT ' + JSON.stringify(result));
	} finally {
		await browser.close();
	}
})().catch(e => {
	console.error(e);
	process.exit(1);
});
