<?php
// A PHP (pecl-gearman / libgearman) worker for the interop tests.
// Usage: php worker.php HOST PORT JOBS
// Runs JOBS jobs, then exits 0. Prints one line per job to stdout: "<function> <workload>".
if ($argc < 4) {
    fwrite(STDERR, "usage: worker.php HOST PORT JOBS\n");
    exit(2);
}
[, $host, $port, $jobs] = $argv;

$worker = new GearmanWorker();
$worker->addServer($host, (int)$port);
$worker->setId("php-worker");

function logJob(GearmanJob $job): void
{
    echo $job->functionName(), " ", $job->workload(), "\n";
    fflush(STDOUT);
}

$worker->addFunction("reverse", function (GearmanJob $job) {
    logJob($job);
    return strrev($job->workload());
});
$worker->addFunction("upper", function (GearmanJob $job) {
    logJob($job);
    return strtoupper($job->workload());
});
$worker->addFunction("progress", function (GearmanJob $job) {
    logJob($job);
    $job->sendStatus(1, 2);
    $job->sendData("chunk");
    return "done";
});
$worker->addFunction("explode", function (GearmanJob $job) {
    logJob($job);
    $job->sendException("kaboom");
    return "unreachable";
});
$worker->addFunction("fail", function (GearmanJob $job) {
    logJob($job);
    $job->sendFail();
    return "unreachable";
});
// Registered with CAN_DO_TIMEOUT (the fourth argument, in seconds for pecl-gearman).
$worker->addFunction("timed", function (GearmanJob $job) {
    logJob($job);
    return "timed:" . $job->workload();
}, null, 5);

for ($i = 0; $i < (int)$jobs; $i++) {
    if (!$worker->work()) {
        fwrite(STDERR, "work() failed: " . $worker->error() . " (" . $worker->returnCode() . ")\n");
        exit(1);
    }
}
exit(0);
