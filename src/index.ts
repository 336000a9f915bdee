export default {
  async fetch(): Promise<Response> {
    return new Response('hi');
  },
} satisfies ExportedHandler;
