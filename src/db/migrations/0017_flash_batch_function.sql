-- A flash batch in one statement (src/orders/lifecycle.ts, placeFlashBatch): N orders with their
-- addresses' snapshots, their lines, their Idempotency-Key rows, the buyers' units and ONE decrement
-- of the sale and the SKU. Called alone it is its own transaction: one round trip, one commit. A buy
-- whose address is not its buyer's is left out, and named in the result:
--   {"missing": [order ids], "addresses": {order id: snapshot}}
-- The rows are locked in the order a cancel locks them: the sale's fence (shared), the new orders,
-- the buyers (in id order), the sale, the SKU. A refusal rolls everything back and says why:
--   PF001 buyers over their limit (DETAIL: a JSON array of their ids)
--   PF002 the sale refused (not active, or not enough units)
--   PF003 the SKU refused (DETAIL: OUT_OF_STOCK or NOT_FOUND)
-- and a key or order id seen before fails as any unique violation (23505).
-- batch: { sale: {id, streamId, skuId, productId, name, specs, cover, priceFen, perUserLimit},
--          now, payDeadline, flashBatch, buys: [{id, user_id, quantity, address_id, key, scope, hash}] }
create or replace function pinlive_place_flash_batch(batch jsonb) returns jsonb language plpgsql as $$
declare
  sale jsonb := batch->'sale';
  sale_id text := sale->>'id';
  sku_id text := sale->>'skuId';
  price integer := (sale->>'priceFen')::integer;
  per_user integer := (sale->>'perUserLimit')::integer;
  at timestamptz := (batch->>'now')::timestamptz;
  total integer;
  over jsonb;
  buys jsonb;
  missing jsonb;
begin
  perform pg_advisory_xact_lock_shared(7406002, hashtext(sale_id));
  select coalesce(jsonb_agg(x.buy || jsonb_build_object('address', jsonb_build_object(
             'name', a.name, 'phone', a.phone, 'province', a.province, 'city', a.city, 'district', a.district, 'detail', a.detail)) order by x.n)
           filter (where a.id is not null), '[]'),
         coalesce(jsonb_agg(x.buy->'id' order by x.n) filter (where a.id is null), '[]')
    into buys, missing
    from jsonb_array_elements(batch->'buys') with ordinality as x(buy, n)
    left join addresses a on a.id = x.buy->>'address_id' and a.user_id = x.buy->>'user_id';
  if jsonb_array_length(buys) = 0 then
    return jsonb_build_object('missing', missing, 'addresses', '{}'::jsonb);
  end if;
  insert into orders (id, user_id, status, items_fen, discount_fen, total_fen, address, source, stream_id, request_key, flash_batch, pay_deadline, created_at, updated_at)
    select b.id, b.user_id, 'pending_payment', price * b.quantity, 0, price * b.quantity, b.address, 'flash', sale->>'streamId', b.key,
      batch->>'flashBatch', (batch->>'payDeadline')::timestamptz, at, at
    from jsonb_to_recordset(buys) as b(id text, user_id text, quantity integer, address jsonb, key text);
  insert into order_items (order_id, line, product_id, sku_id, name, specs, cover, unit_price_fen, quantity, flash_sale_id)
    select b.id, 1, sale->>'productId', sku_id, sale->>'name', sale->'specs', sale->>'cover', price, b.quantity, sale_id
    from jsonb_to_recordset(buys) as b(id text, quantity integer);
  -- A flash answer is its order: the row keeps the order's id, and a replay is answered from the order's row.
  insert into idempotency_keys (scope, key, request_hash, state, status, response)
    select b.scope, b.key, b.hash, 'done', 201, jsonb_build_object('orderId', b.id)
    from jsonb_to_recordset(buys) as b(id text, scope text, key text, hash text)
    on conflict do nothing;
  with wanted as (
    select b.user_id, sum(b.quantity)::integer as n
    from jsonb_to_recordset(buys) as b(user_id text, quantity integer)
    group by b.user_id
  ), took as (
    insert into flash_buyers (flash_sale_id, user_id, bought)
      select sale_id, w.user_id, w.n from wanted w order by w.user_id
    on conflict (flash_sale_id, user_id) do update set bought = flash_buyers.bought + excluded.bought
      where flash_buyers.bought + excluded.bought <= per_user
    returning user_id, bought
  )
  select jsonb_agg(w.user_id order by w.user_id) into over
    from wanted w left join took t on t.user_id = w.user_id
    where t.user_id is null or t.bought > per_user;
  if over is not null then
    raise exception using errcode = 'PF001', message = 'flash batch: buyers over their limit', detail = over::text;
  end if;
  select sum(b.quantity)::integer into total from jsonb_to_recordset(buys) as b(quantity integer);
  update flash_sales set sold = sold + total where id = sale_id and status = 'active' and sold + total <= quantity;
  if not found then
    raise exception using errcode = 'PF002', message = 'flash batch: the sale refused';
  end if;
  update skus set stock = stock - total
    where id = sku_id and stock >= total and exists (select 1 from products p where p.id = skus.product_id and p.listed);
  if not found then
    raise exception using errcode = 'PF003', message = 'flash batch: the SKU refused',
      detail = case when exists (select 1 from skus s join products p on p.id = s.product_id where s.id = sku_id and p.listed)
        then 'OUT_OF_STOCK' else 'NOT_FOUND' end;
  end if;
  return jsonb_build_object('missing', missing, 'addresses', (select jsonb_object_agg(b->>'id', b->'address') from jsonb_array_elements(buys) as b));
end $$;
