<?php

/**
 * The sample function: handler "function.handler" (file function.php, function handler).
 *
 * @param array $event   the invoke's payload, decoded from JSON
 * @param array $context awsRequestId, invokedFunctionArn, deadlineMs
 */
function handler(array $event, array $context): array
{
    static $invocations = 0; // lives as long as the environment's PHP process
    $invocations++;

    $name = $event['name'] ?? 'world';
    if (!is_string($name)) {
        throw new InvalidArgumentException('name must be a string');
    }
    // A layer may provide the greeting (see "Several layers" in docs/tutorial-custom-runtime.md).
    $greeting = is_readable('/opt/greeting.txt') ? trim(file_get_contents('/opt/greeting.txt')) : 'Hello';
    echo "greeting $name\n";
    return ['message' => "$greeting, $name!", 'invocations' => $invocations];
}
