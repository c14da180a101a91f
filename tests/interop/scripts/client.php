<?php
// A PHP (pecl-gearman / libgearman) client for the interop tests.
// Usage: php client.php HOST PORT SCENARIO
// Prints what it observed, one fact per line, so two servers can be compared line by line.
if ($argc < 4) {
    fwrite(STDERR, "usage: client.php HOST PORT SCENARIO\n");
    exit(2);
}
[, $host, $port, $scenario] = $argv;

function client(string $host, int $port, bool $exceptions = false): GearmanClient
{
    $c = new GearmanClient();
    if ($exceptions) {
        // pecl-gearman 2.1.0 does not export the constant; libgearman's GEARMAN_CLIENT_EXCEPTION is 1 << 7.
        $c->setOptions(defined("GEARMAN_CLIENT_EXCEPTIONS") ? GEARMAN_CLIENT_EXCEPTIONS : 128);
    }
    if (!$c->addServer($host, $port)) {
        fwrite(STDERR, "addServer failed: " . $c->error() . "\n");
        exit(1);
    }
    $c->setTimeout(20000);
    return $c;
}

function rc(GearmanClient $c): string
{
    $names = [GEARMAN_SUCCESS => "SUCCESS", GEARMAN_WORK_FAIL => "WORK_FAIL",
              GEARMAN_WORK_EXCEPTION => "WORK_EXCEPTION", GEARMAN_TIMEOUT => "TIMEOUT",
              GEARMAN_WORK_DATA => "WORK_DATA", GEARMAN_WORK_STATUS => "WORK_STATUS"];
    $code = $c->returnCode();
    return $names[$code] ?? "rc=$code";
}

function status(?array $s): string
{
    return $s === null ? "null" : implode(" ", array_map(fn($v) => var_export($v, true), $s));
}

$port = (int)$port;
switch ($scenario) {
case "do":
    $c = client($host, $port);
    echo "doNormal ", $c->doNormal("reverse", "Hello World!"), " ", rc($c), "\n";
    echo "doHigh ", $c->doHigh("upper", "high"), " ", rc($c), "\n";
    echo "doLow ", $c->doLow("upper", "low"), " ", rc($c), "\n";
    echo "timed ", $c->doNormal("timed", "t"), " ", rc($c), "\n";
    break;

case "progress":
    // doNormal returns at each WORK_DATA / WORK_STATUS; call again until the job completes.
    $c = client($host, $port);
    $out = [];
    do {
        $r = $c->doNormal("progress", "p");
        $code = rc($c);
        if ($code === "WORK_STATUS") {
            $out[] = "status " . implode("/", $c->doStatus());
        } else {
            $out[] = "$code $r";
        }
    } while ($code === "WORK_DATA" || $code === "WORK_STATUS");
    echo implode("\n", $out), "\n";
    break;

case "background":
    // No worker runs yet: the jobs stay queued.
    $c = client($host, $port);
    $h1 = $c->doBackground("upper", "bg-normal", "php-unique-1");
    // Same unique: the server coalesces. (Checked first: libgearman 1.1.20 hangs on a submit
    // made after jobStatusByUniqueKey() on the same client, whatever the server.)
    echo "coalesced ", $c->doBackground("upper", "other data", "php-unique-1") === $h1 ? "same" : "new", "\n";
    echo "handle ", preg_match('/^H:gb:\d+$/', $h1) ? "ok" : "bad:$h1", " ", rc($c), "\n";
    $h2 = $c->doHighBackground("upper", "bg-high");
    echo "handle ", preg_match('/^H:gb:\d+$/', $h2) ? "ok" : "bad:$h2", " ", rc($c), "\n";
    $h3 = $c->doLowBackground("upper", "bg-low");
    echo "handle ", preg_match('/^H:gb:\d+$/', $h3) ? "ok" : "bad:$h3", " ", rc($c), "\n";
    echo "jobStatus ", status($c->jobStatus($h1)), "\n";
    echo "jobStatusByUniqueKey ", status($c->jobStatusByUniqueKey("php-unique-1")), "\n";
    echo "jobStatusByUniqueKey missing ", status($c->jobStatusByUniqueKey("nope")), "\n";
    echo "jobStatus missing ", status($c->jobStatus("H:gb:999")), "\n";
    break;

case "exceptions":
    $c = client($host, $port, true);
    $r = $c->doNormal("explode", "x");
    echo "with option: ", var_export($r, true), " ", rc($c), "\n";
    $c2 = client($host, $port);
    $r = $c2->doNormal("explode", "y");
    echo "without option: ", var_export($r, true), " ", rc($c2), "\n";
    $r = $c2->doNormal("fail", "z");
    echo "fail: ", var_export($r, true), " ", rc($c2), "\n";
    break;

case "ping":
    $c = client($host, $port);
    echo "ping ", var_export($c->ping("hello"), true), "\n";
    break;

default:
    fwrite(STDERR, "unknown scenario $scenario\n");
    exit(2);
}
exit(0);
