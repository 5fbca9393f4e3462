// Browser side of webrtc_chromium.sh: headless Chromium (playwright-core, /usr/bin/chromium)
// makes an RTCPeerConnection offer (PCMU only, an 800 Hz oscillator as microphone), writes it to
// <dir>/<name>.offer.sdp, waits for <dir>/<name>.answer.sdp (mediagate's answer, via ng), applies
// it and reports the transport and RTP figures to <dir>/<name>.result.json.
// Usage: node webrtc_chromium.js <dir> <name> [seconds of media] [progress]
// With "progress" the figures are also written every 250 ms to <dir>/<name>.progress.json
// (webrtc_restart.sh watches the inbound packets across a restart of mediagate).
const fs = require('fs');
const path = require('path');
const {chromium} = require('playwright-core');

const [dir, name] = [process.argv[2], process.argv[3]];
const seconds = Number(process.argv[4] || 5);
const progress = process.argv[5] === 'progress';
const file = ext => path.join(dir, `${name}.${ext}`);
const sleep = ms => new Promise(r => setTimeout(r, ms));

(async () => {
	const browser = await chromium.launch({
		executablePath : '/usr/bin/chromium',
		args : [
			'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			'--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync',
			'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
			'--autoplay-policy=no-user-gesture-required'
		],
	});
	let result = {};
	try {
		const page = await browser.newPage();
		await page.goto('about:blank');
		const offer = await page.evaluate(async () => {
			// about:blank is no secure context (no getUserMedia): an oscillator is the
			// microphone
			const ac = new AudioContext({sampleRate : 48000});
			const osc = ac.createOscillator();
			osc.frequency.value = 800;
			const gain = ac.createGain();
			gain.gain.value = 0.5;
			const dst = ac.createMediaStreamDestination();
			osc.connect(gain).connect(dst);
			osc.start();
			const pc = new RTCPeerConnection(
			    {bundlePolicy : 'max-bundle', rtcpMuxPolicy : 'require'});
			window.pc = pc;
			dst.stream.getTracks().forEach(t => pc.addTrack(t, dst.stream));
			// PCMU only: the far end decodes it without a codec library
			const pcmu = RTCRtpSender.getCapabilities('audio').codecs.filter(
			    c => c.mimeType.toLowerCase() === 'audio/pcmu');
			pc.getTransceivers()[0].setCodecPreferences(pcmu);
			await pc.setLocalDescription(await pc.createOffer());
			// all host candidates in the offer (no trickle towards ng)
			if (pc.iceGatheringState !== 'complete')
				await new Promise(r => {
					pc.onicegatheringstatechange = () => {
						if (pc.iceGatheringState === 'complete')
							r();
					};
					setTimeout(r, 5000);
				});
			return pc.localDescription.sdp;
		});
		fs.writeFileSync(file('offer.sdp.tmp'), offer);
		fs.renameSync(file('offer.sdp.tmp'), file('offer.sdp'));
		for (let i = 0; i < 600 && !fs.existsSync(file('answer.sdp')); i++)
			await sleep(100);
		const answer = fs.readFileSync(file('answer.sdp'), 'utf8');
		result.setRemote = await page.evaluate(async sdp => {
			try {
				await window.pc.setRemoteDescription({type : 'answer', sdp});
				return 'ok';
			} catch (e) {
				return String(e);
			}
		}, answer);
		let connectedAt = -1;
		const states = [];
		for (let i = 0; i < 4 * (20 + seconds); i++) {
			const st = await page.evaluate(() => window.pc.connectionState);
			if (states[states.length - 1] !== st)
				states.push(st);
			if (st === 'connected' && connectedAt < 0)
				connectedAt = i;
			if (st === 'failed' || (connectedAt >= 0 && i - connectedAt >= 4 * seconds))
				break;
			if (progress) {
				const f = await page.evaluate(async () => {
					const r = {state : window.pc.connectionState};
					(await window.pc.getStats()).forEach(s => {
						if (s.type === 'inbound-rtp' && s.kind === 'audio')
							r.packetsReceived = s.packetsReceived;
						if (s.type === 'outbound-rtp' && s.kind === 'audio')
							r.packetsSent = s.packetsSent;
						if (s.type === 'transport')
							r.dtlsState = s.dtlsState;
					});
					return r;
				});
				f.states = states;
				fs.writeFileSync(file('progress.json.tmp'), JSON.stringify(f));
				fs.renameSync(file('progress.json.tmp'), file('progress.json'));
			}
			await sleep(250);
		}
		result.states = states;
		Object.assign(result, await page.evaluate(async () => {
			const r = {connectionState : window.pc.connectionState};
			(await window.pc.getStats()).forEach(s => {
				if (s.type === 'transport') {
					r.dtlsState = s.dtlsState;
					r.tlsVersion = s.tlsVersion;
					r.srtpCipher = s.srtpCipher;
					r.dtlsRole = s.dtlsRole;
					r.iceState = s.iceState;
				}
				if (s.type === 'inbound-rtp' && s.kind === 'audio') {
					r.packetsReceived = s.packetsReceived;
					r.inboundCodec = s.codecId;
					r.audioLevel = s.audioLevel;
					r.totalAudioEnergy = s.totalAudioEnergy;
				}
				if (s.type === 'outbound-rtp' && s.kind === 'audio') {
					r.packetsSent = s.packetsSent;
					r.ssrc = s.ssrc;
				}
			});
			return r;
		}));
	} catch (e) {
		result.error = String(e);
	} finally {
		fs.writeFileSync(file('result.json'), JSON.stringify(result));
		await browser.close();
	}
})();
