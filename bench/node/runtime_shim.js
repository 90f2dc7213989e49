// A minimal Lambda Runtime API client for Node handlers (what the managed nodejs20.x runtime does, minus
// logging and X-Ray): load the handler module, then loop GET /next -> handler(event, context) -> POST
// /response or /error. Only the benchmark uses it.
//
// usage: node runtime_shim.js HANDLER_FILE [EXPORT=handler]
//
// The one change to the handler's world: CDK's handler PUTs its CloudFormation response with
// `https.request({hostname, path, method: 'PUT'})`, i.e. to port 443 with TLS, dropping any port in the
// ResponseURL. localaws's receiver is plain HTTP on an ephemeral port, so `require('https')` *from the handler
// file* resolves to a module whose request() goes to the current ResponseURL's host:port over HTTP. The
// handler file itself is loaded unmodified; the SDK's own traffic (ECR over AWS_ENDPOINT_URL) is untouched.
'use strict';
const http = require('http');
const Module = require('module');
const path = require('path');

const handlerFile = path.resolve(process.argv[2]);
const exportName = process.argv[3] || 'handler';
const [apiHost, apiPort] = (process.env.AWS_LAMBDA_RUNTIME_API || '').split(':');
if (!apiHost || !apiPort) {
  console.error('runtime_shim: AWS_LAMBDA_RUNTIME_API must be HOST:PORT');
  process.exit(2);
}

let responseTarget = null;  // {hostname, port} of the current event's ResponseURL
const mappedHttps = Object.assign({}, require('https'), {
  request(options, callback) {
    const o = Object.assign({}, options);
    if (responseTarget && o.hostname === responseTarget.hostname) {
      o.port = responseTarget.port;
      delete o.agent;
      return http.request(o, callback);
    }
    return require('https').request(options, callback);
  },
});
const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'https' && parent && parent.filename === handlerFile) return mappedHttps;
  return originalLoad.apply(this, arguments);
};

const handler = require(handlerFile)[exportName];
if (typeof handler !== 'function') {
  console.error(`runtime_shim: ${handlerFile} exports no function '${exportName}'`);
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });
function runtimeCall(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: apiPort, method, path: '/2018-06-01/runtime/' + urlPath, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function main() {
  for (;;) {
    const next = await runtimeCall('GET', 'invocation/next');
    if (next.status !== 200) {
      console.error(`runtime_shim: /next answered ${next.status}; exiting`);
      process.exit(1);
    }
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    const event = JSON.parse(next.body);
    if (typeof event.ResponseURL === 'string') {
      const u = new URL(event.ResponseURL);
      responseTarget = { hostname: u.hostname, port: u.port || 80 };
    }
    const context = {
      awsRequestId: id,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || 'bench',
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      logStreamName: 'bench',
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    try {
      const result = await handler(event, context);
      await runtimeCall('POST', `invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      await runtimeCall('POST', `invocation/${id}/error`,
        JSON.stringify({ errorType: e.name || 'Error', errorMessage: String(e.message || e) }));
    }
  }
}
main().catch((e) => { console.error('runtime_shim:', e); process.exit(1); });
