using System.Net;
using System.Net.Sockets;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// A loopback TCP forwarder to a server, which a test can cut (every connection dropped, new ones refused) and restore:
/// to the silos behind it, the server has gone down and come back, while other tests keep using the server.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        Port = FreePorts.Next();
        Restore();
    }

    public int Port { get; }

    /// <summary>Drops every forwarded connection and stops listening: connecting is refused until <see cref="Restore"/>.</summary>
    public async Task CutAsync()
    {
        _listener?.Stop();
        await _accepting;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                if (connection.Client is { } socket)
                {
                    socket.LingerState = new LingerOption(true, 0); // a reset, as when the server's host dies
                }

                connection.Dispose();
            }

            _connections.Clear();
        }
    }

    public void Restore()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _accepting = AcceptAsync(_listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return; // stopped
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(server);
            }

            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // The other side, or the cut, closed the connection.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await CutAsync();
        _stop.Dispose();
    }
}
