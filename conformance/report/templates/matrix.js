(function(){
  function openFeature(id, col, scroll){
    var d=document.getElementById(id); if(!d) return;
    d.open=true;
    document.querySelectorAll('.sel').forEach(function(e){e.classList.remove('sel')});
    if(col){d.querySelectorAll('details.case').forEach(function(c){
      var o=c.getAttribute('data-'+col); if(o && o!=='passed' && o!=='unsupported' && o!=='skipped'){c.open=true}});
      d.querySelectorAll('.side[data-col="'+col+'"]').forEach(function(s){s.classList.add('sel')});}
    else{d.querySelectorAll('details.case[data-notable="1"]').forEach(function(c){c.open=true})}
    if(scroll){d.scrollIntoView({block:'start'})}
  }
  document.querySelectorAll('td.cell').forEach(function(td){
    td.addEventListener('click',function(){openFeature(td.getAttribute('data-target'),td.getAttribute('data-col'),true)});
  });
  var only=document.getElementById('only-notable');
  only.addEventListener('change',function(){
    document.querySelectorAll('details.case').forEach(function(c){
      c.classList.toggle('hidden', only.checked && c.getAttribute('data-notable')!=='1')});
  });
  var m=document.getElementById('matrix');
  var heads=Array.prototype.slice.call(document.querySelectorAll('#matrix th.col'));
  function status(){
    var shown=heads.filter(function(th){return !th.classList.contains('off')}).length;
    var what=m.getAttribute('data-providers')+' providers';
    var pm=document.getElementById('pivot-model'), pp=document.getElementById('pivot-provider');
    if(pm && pm.value){what=shown+' providers of model '+pm.value}
    else if(pp && pp.value){what=shown+' models of provider '+pp.value}
    else if(shown!==heads.length){what=shown+' columns'}
    document.getElementById('status').textContent=m.getAttribute('data-features')+' features x '+what+'; click a cell for its cases';
  }
  function pivot(){
    var want={};
    document.querySelectorAll('#pivot select').forEach(function(s){want[s.getAttribute('data-dim')]=s.value});
    heads.forEach(function(th){
      var off=(want.model && th.getAttribute('data-model')!==want.model)||(want.provider && th.getAttribute('data-provider')!==want.provider);
      document.querySelectorAll('[data-col="'+th.getAttribute('data-col')+'"]').forEach(function(e){e.classList.toggle('off',!!off)});
    });
    status();
  }
  document.querySelectorAll('#pivot select').forEach(function(s){s.addEventListener('change',pivot)});
  decodeURIComponent(location.hash.slice(1)).split('&').forEach(function(part){
    if(!part) return;
    var eq=part.indexOf('='), key=eq<0?'':part.slice(0,eq), value=part.slice(eq+1);
    if(key==='open'){value.split(',').forEach(function(id){openFeature(id,null,false)})}
    else if(key==='model'||key==='provider'){var s=document.getElementById('pivot-'+key); if(s){s.value=value}}
    else if(eq<0){openFeature(part,null,true)}
  });
  pivot();
  document.body.setAttribute('data-ready','1');
})();
