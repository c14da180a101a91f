<?php
// The seed's Hello World worker, as on the slide. Server: argv[1] ("host:port"), else default.
$worker= new GearmanWorker();
if ($argc > 1) { $worker->addServers($argv[1]); } else { $worker->addServer(); }
$worker->addFunction("reverse", "my_reverse_function");
while ($worker->work());

function my_reverse_function($job)
{
  return strrev($job->workload());
}
