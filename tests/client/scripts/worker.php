<?php
// Test worker: php worker.php SERVERS. Functions: reverse, chatty (data, status, result).
$worker = new GearmanWorker();
$worker->addServers($argv[1]);
$worker->addFunction("reverse", function ($job) { return strrev($job->workload()); });
$worker->addFunction("chatty", function ($job) {
  $job->sendData("php-data");
  $job->sendStatus(3, 4);
  return "php-done:" . $job->workload();
});
while ($worker->work());
