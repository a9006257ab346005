<?php

/*
 * A custom Lambda runtime for PHP, speaking the Runtime API (2018-06-01) with PHP's own HTTP streams.
 *
 * _HANDLER is "file.function": include file.php from the task root, then, for every invoke, call
 * function($event, $context) and post what it returns, as JSON, as the result. What it echoes goes to the log.
 */

declare(strict_types=1);

/**
 * Sends one request to the Runtime API and returns [headers (lowercase names), body]. An error status ends the
 * runtime (an uncaught exception), which is what Lambda expects when its API answers 500.
 */
function runtimeApi(string $method, string $path, string $body = '', array $headers = []): array
{
    $lines = ['Content-Type: application/json'];
    foreach ($headers as $name => $value) {
        $lines[] = "$name: $value";
    }
    $context = stream_context_create(['http' => [
        'method' => $method,
        'header' => $lines,
        'content' => $body,
        'timeout' => 365 * 86400, // GET /next waits as long as it takes for the next event
        'ignore_errors' => true,  // return the body of an error status too
    ]]);
    $url = 'http://' . getenv('AWS_LAMBDA_RUNTIME_API') . "/2018-06-01/runtime/$path";
    $response = file_get_contents($url, false, $context);
    // file_get_contents sets $http_response_header: the status line, then one "Name: value" line per header.
    $status = (int) explode(' ', $http_response_header[0] ?? 'HTTP/1.1 0')[1];
    if ($response === false || $status >= 300) {
        throw new RuntimeException("$method $path: HTTP $status $response");
    }
    $received = [];
    foreach (array_slice($http_response_header, 1) as $line) {
        [$name, $value] = explode(':', $line, 2);
        $received[strtolower($name)] = trim($value);
    }
    return [$received, $response];
}

/** The body Lambda expects on /error and /init/error, and that the caller receives. */
function errorBody(string $type, string $message): string
{
    return json_encode(['errorType' => $type, 'errorMessage' => $message], JSON_UNESCAPED_SLASHES);
}

/** Reports an initialisation failure, after which Lambda stops this environment. */
function initError(string $type, string $message): never
{
    runtimeApi('POST', 'init/error', errorBody($type, $message), ['Lambda-Runtime-Function-Error-Type' => $type]);
    fwrite(STDERR, "$type: $message\n");
    exit(1);
}

// 1. Initialisation, once per environment: load the handler (bootstrap made the task root the current directory).
[$file, $function] = array_pad(explode('.', (string) getenv('_HANDLER'), 2), 2, '');
if (!is_file("$file.php")) {
    initError('Runtime.ImportModuleError', "Cannot find handler file $file.php");
}
try {
    require "$file.php";
} catch (Throwable $e) {
    // As in Lambda's own runtimes: a syntax error has a type of its own; anything else thrown keeps its class.
    initError($e instanceof ParseError ? 'Runtime.UserCodeSyntaxError' : get_class($e), $e->getMessage());
}
if (!function_exists($function)) {
    initError('Runtime.HandlerNotFound', "$file.$function is undefined or not a function");
}
fwrite(STDERR, "php runtime: ready to run $file.$function\n");

// 2. The loop, one event at a time for as long as the environment lives.
while (true) {
    [$headers, $event] = runtimeApi('GET', 'invocation/next');
    $requestId = $headers['lambda-runtime-aws-request-id'];
    $context = [
        'awsRequestId' => $requestId,
        'invokedFunctionArn' => $headers['lambda-runtime-invoked-function-arn'] ?? '',
        'deadlineMs' => (int) ($headers['lambda-runtime-deadline-ms'] ?? 0),
    ];
    putenv('_X_AMZN_TRACE_ID=' . ($headers['lambda-runtime-trace-id'] ?? ''));

    // Call the handler. What it echoes is captured and written to the log before the result is posted, so the
    // handler's output can never be mistaken for the runtime's, and is logged before the invoke ends.
    ob_start();
    try {
        $result = json_encode($function(json_decode($event, true), $context), JSON_THROW_ON_ERROR);
        $error = null;
    } catch (Throwable $e) {
        $error = $e;
    }
    fwrite(STDOUT, ob_get_clean());

    if ($error === null) {
        runtimeApi('POST', "invocation/$requestId/response", $result);
    } else {
        $body = errorBody(get_class($error), $error->getMessage());
        runtimeApi('POST', "invocation/$requestId/error", $body, ['Lambda-Runtime-Function-Error-Type' => 'Unhandled']);
    }
}
