#!/usr/bin/perl
# A Perl (Gearman::Worker, pure-Perl protocol: GRAB_JOB, PRE_SLEEP) worker for the interop tests.
# Usage: perl worker.pl HOST PORT JOBS
# Runs JOBS jobs, then exits 0. Prints one line per job to stdout: "<function> <workload>".
use strict;
use warnings;
use Gearman::Worker;

@ARGV == 3 or die "usage: worker.pl HOST PORT JOBS\n";
my ($host, $port, $jobs) = @ARGV;
$| = 1;

my $worker = Gearman::Worker->new(job_servers => ["$host:$port"], client_id => "perl-worker");
my $done = 0;

sub logjob {
    my ($job) = @_;
    print $job->handle =~ /^H:gb:\d+$/ ? "" : "bad handle " . $job->handle . "\n";
    print $job->{func}, " ", $job->arg, "\n";
}

$worker->register_function(reverse => sub { logjob($_[0]); scalar reverse $_[0]->arg });
$worker->register_function(upper => sub { logjob($_[0]); uc $_[0]->arg });
$worker->register_function(progress => sub {
    my $job = shift;
    logjob($job);
    $job->set_status(1, 2);
    return "done";
});
# Returning undef sends WORK_FAIL.
$worker->register_function(fail => sub { logjob($_[0]); return undef });
# Registered with CAN_DO_TIMEOUT (seconds in Gearman::Worker).
$worker->register_function(timed => 5 => sub { logjob($_[0]); "timed:" . $_[0]->arg });

$worker->work(
    on_complete => sub { $done++ },
    on_fail     => sub { $done++ },
    stop_if     => sub { $done >= $jobs },
);
exit 0;
