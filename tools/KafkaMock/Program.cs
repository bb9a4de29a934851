using Confluent.Kafka;

// A Kafka cluster for tests: librdkafka's mock cluster, which speaks the real Kafka protocol over TCP (topics,
// partitions, consumer groups, offset commits), kept alive in a process of its own so that tests can kill the
// processes that use it. Writes "host:port,host:port,..." to the file given as the first argument once it answers,
// then runs until it is stopped. Data lives in memory only.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: KafkaMock BOOTSTRAP_FILE");
    return 2;
}

var config = new ProducerConfig();
// The mock cluster is created by, and lives as long as, the client configured with this property.
config.Set("test.mock.num.brokers", "3");
using var owner = new ProducerBuilder<Null, Null>(config).Build();
using var admin = new DependentAdminClientBuilder(owner.Handle).Build();
var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
var bootstrap = string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));

var file = Path.GetFullPath(args[0]);
Directory.CreateDirectory(Path.GetDirectoryName(file)!);
File.WriteAllText(file + ".tmp", bootstrap);
File.Move(file + ".tmp", file, overwrite: true);
Console.WriteLine($"kafka mock cluster: {bootstrap}");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
File.Delete(file);
return 0;
