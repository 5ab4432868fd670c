// Starts AWS DynamoDB Local bound to one address (127.0.0.1) instead of every interface.
// DynamoDBLocal.jar's own main() has no host option: it builds a Jetty Server(port), which listens on
// 0.0.0.0. We build the server through the jar's own ServerRunner, then set the host of its connector
// before starting it. Arguments: <host> followed by DynamoDB Local's usual arguments.
import java.lang.reflect.Field;
import java.util.Arrays;

public final class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        String[] localArgs = Arrays.copyOfRange(args, 1, args.length);
        Object proxy = software.amazon.dynamodb.services.local.main.ServerRunner
                .createServerFromCommandLineArgs(localArgs);
        Field serverField = proxy.getClass().getDeclaredField("server");
        serverField.setAccessible(true);
        org.eclipse.jetty.server.Server server = (org.eclipse.jetty.server.Server) serverField.get(proxy);
        for (org.eclipse.jetty.server.Connector connector : server.getConnectors()) {
            ((org.eclipse.jetty.server.ServerConnector) connector).setHost(host);
        }
        proxy.getClass().getMethod("start").invoke(proxy);
        System.out.println("DynamoDB Local listening on " + host);
        proxy.getClass().getMethod("join").invoke(proxy);
    }
}
